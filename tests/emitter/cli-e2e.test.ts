// `agent-receipts emit` and `agent-receipts hook claude-code` through the
// compiled binary, against the real daemon (`npm run build` first).
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { payloadHash } from "../../src/receipt/canonical.ts";
import type { DaemonHandle } from "../helpers/daemon.ts";
import { perTestDaemons } from "../helpers/per-test-daemons.ts";
import { BINARY, tempDir } from "../helpers/fixtures.ts";
import { cleanEnv, readReceipts, verify, type Row } from "../daemon/support.ts";

const { daemon: startTracked } = perTestDaemons();
const daemon = (dir?: string): Promise<DaemonHandle> => startTracked(dir === undefined ? {} : { dir });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(args: string[], opts: { stdin?: string; env?: Record<string, string | undefined> } = {}): Run {
  const t0 = performance.now();
  const r = spawnSync(BINARY, args, { input: opts.stdin ?? "", env: cleanEnv(opts.env), encoding: "utf8", timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

const action = (r: Row) => r.receipt.credentialSubject.action;

describe("agent-receipts emit", () => {
  test("one event from flags: exit 0 once the daemon confirmed; the receipt carries every flag", async () => {
    const d = await daemon();
    const r = run([
      "emit", "--socket", d.socket, "--tool", "create_issue", "--server", "github", "--decision", "denied",
      "--input", '{"title":"x"}', "--output", '{"n":1}', "--error", "no permission", "--session", "s-emit-1", "--correlation-id", "corr-1",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // Delivered is reported only after the daemon's close, i.e. after the commit.
    const rows = readReceipts(d.db);
    expect(rows.length).toBe(1);
    const receipt = rows[0]!.receipt;
    expect(receipt.issuer.session_id).toBe("s-emit-1");
    expect(action(rows[0]!).type).toBe("cli.github.create_issue");
    expect(action(rows[0]!).tool_name).toBe("create_issue");
    expect(action(rows[0]!).parameters_hash).toBe(payloadHash({ title: "x" }));
    expect(action(rows[0]!).peer_credential?.exe_path).toBe(realpathSync(BINARY));
    expect(receipt.credentialSubject.outcome).toEqual({ status: "failure", error: "no permission", response_hash: payloadHash({ n: 1 }) });
    expect(receipt.credentialSubject.correlation_id).toBe("corr-1");

    const typed = run(["emit", "--socket", d.socket, "--tool", "t", "--channel", "ci", "--action-type", "deploy.run"]);
    expect(typed.code).toBe(0);
    expect(action(readReceipts(d.db)[1]!).type).toBe("deploy.run");
    expect(verify(d.db, d.publicKey).code).toBe(0);
  });

  test("--stdin: JSON Lines over one connection, from one process", async () => {
    const d = await daemon();
    const lines = [
      { tool: { name: "a" }, decision: "allowed", input: { i: 1 } },
      { v: "1", ts_emit: "ignored", tool: { name: "b", server: "srv" }, decision: "pending", input: { i: 2 }, session_id: "s-lines" },
      { tool: { name: "c" }, decision: "denied", channel: "other", correlation_id: "k" },
    ];
    const r = run(["emit", "--socket", d.socket, "--session", "s-default", "--stdin"], { stdin: `${lines.map((l) => JSON.stringify(l)).join("\n")}\n\n` });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const rows = readReceipts(d.db);
    expect(rows.map((x) => [action(x).type, x.receipt.issuer.session_id, x.receipt.credentialSubject.outcome.status])).toEqual([
      ["cli.a", "s-default", "success"], ["cli.srv.b", "s-lines", "pending"], ["other.c", "s-default", "failure"],
    ]);
    expect(new Set(rows.map((x) => action(x).peer_credential?.pid)).size).toBe(1);
    expect(action(rows[1]!).parameters_hash).toBe(payloadHash({ i: 2 }));
  });

  test("usage errors exit 2 before anything is sent", async () => {
    const d = await daemon();
    const cases: Array<[string[], RegExp, string?]> = [
      [["--tool", "t", "--input", "{not json"], /--input is not valid JSON/],
      [["--tool", "t", "--output", "[1,"], /--output is not valid JSON/],
      [["--tool", "t", "--decision", "maybe"], /--decision must be one of allowed, denied, pending/],
      [[], /--tool is required/],
      [["--tool", "t", "--correlation-id", "x".repeat(300)], /--correlation-id must be at most 256 bytes/],
      [["--tool", "t", "--stdin"], /do not combine/],
      [["--stdin"], /stdin line 1 is not valid JSON/, "{oops\n"],
      [["--stdin"], /stdin line 2: decision must be one of/, '{"tool":{"name":"a"},"decision":"allowed"}\n{"tool":{"name":"a"},"decision":"sure"}\n'],
    ];
    for (const [args, message, stdin] of cases) {
      const r = run(["emit", "--socket", d.socket, ...args], { stdin });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    // Nothing was sent, not even the valid first line of the last case: every line is checked before the first is sent.
    await Bun.sleep(200);
    expect(readReceipts(d.db).length).toBe(0);
  });

  test("daemon down: exit 1 naming the socket and how to start the daemon; --best-effort exits 0 with a warning", () => {
    const socket = join(tempDir("ar-cli-"), "events.sock");
    const r = run(["emit", "--socket", socket, "--tool", "t"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(socket);
    expect(r.stderr).toContain("agent-receipts daemon");
    const best = run(["emit", "--socket", socket, "--tool", "t", "--best-effort"]);
    expect(best.code).toBe(0);
    expect(best.stderr).toContain("warning");
    expect(best.stderr).toContain(socket);
  });

  test("the socket comes from AGENTRECEIPTS_SOCKET when --socket is not given", async () => {
    const d = await daemon();
    const r = run(["emit", "--tool", "t"], { env: { AGENTRECEIPTS_SOCKET: d.socket } });
    expect(r.code).toBe(0);
    expect(readReceipts(d.db).length).toBe(1);
  });
});

describe("agent-receipts hook claude-code", () => {
  const pre = (session: string, tool: string, input: unknown, id = "toolu_1") =>
    JSON.stringify({ hook_event_name: "PreToolUse", session_id: session, tool_name: tool, tool_input: input, tool_use_id: id, transcript_path: "/t.jsonl", cwd: "/repo" });

  function dropFiles(dataHome: string): string[] {
    const dir = join(dataHome, "agent-receipts", "emitter-drops");
    return existsSync(dir) ? readdirSync(dir) : [];
  }

  test("daemon down: exit 0 well under 200 ms, a warning, and the drop counted across hook processes; the next delivered event reports it", async () => {
    const dir = tempDir("ar-hook-");
    const socket = join(dir, "run", "events.sock");
    const dataHome = tempDir("ar-hook-data-");
    const env = { XDG_DATA_HOME: dataHome, AGENTRECEIPTS_SOCKET: socket };
    for (const n of [1, 2]) {
      const r = run(["hook", "claude-code"], { stdin: pre("sess-hook", "Bash", { command: `echo ${n}` }, `toolu_${n}`), env });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("warning");
      expect(r.stderr).toContain(socket);
      expect(r.ms).toBeLessThan(200);
      expect(dropFiles(dataHome).length).toBe(1);
    }
    const d = await daemon(dir);
    expect(d.socket).toBe(socket);
    const input = { title: "bug", body: "x" };
    const r = run(["hook", "claude-code"], { stdin: pre("sess-hook", "mcp__github__create_issue", input, "toolu_3"), env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const rows = readReceipts(d.db);
    expect(rows.map((x) => action(x).type)).toEqual(["agent_receipts.events_dropped", "claude-code.github.create_issue"]);
    expect(action(rows[0]!).emitter_metadata).toEqual({ drop_count: 2 });
    const live = rows[1]!.receipt;
    expect(live.issuer.session_id).toBe("sess-hook");
    expect(live.credentialSubject.action.tool_name).toBe("create_issue");
    expect(live.credentialSubject.action.parameters_hash).toBe(payloadHash(input));
    expect(live.credentialSubject.outcome.status).toBe("pending");
    expect(live.credentialSubject.correlation_id).toBe("toolu_3");
    expect(live.credentialSubject.action.peer_credential?.exe_path).toBe(realpathSync(BINARY));
    // Reported, so cleared.
    expect(dropFiles(dataHome)).toEqual([]);
    expect(verify(d.db, d.publicKey).code).toBe(0);
  });

  test("PostToolUse of a file tool: allowed, filesystem target, response hash; an error response fails the outcome", async () => {
    const d = await daemon();
    const env = { XDG_DATA_HOME: tempDir("ar-hook-data-"), AGENTRECEIPTS_SOCKET: d.socket };
    const input = { file_path: "/repo/src/a.ts" };
    const response = { type: "text", file: { filePath: "/repo/src/a.ts", content: "x" } };
    const post = { hook_event_name: "PostToolUse", session_id: "sess-post", tool_name: "Read", tool_input: input, tool_response: response, tool_use_id: "toolu_9" };
    expect(run(["hook", "claude-code"], { stdin: JSON.stringify(post), env }).code).toBe(0);
    const failed = { ...post, tool_name: "mcp__db__query", tool_input: { sql: "select 1" }, tool_response: { isError: true, content: [{ type: "text", text: "denied" }] } };
    expect(run(["hook", "claude-code"], { stdin: JSON.stringify(failed), env }).code).toBe(0);
    const [read, query] = readReceipts(d.db).map((r) => r.receipt.credentialSubject);
    expect(read!.action.target).toEqual({ system: "filesystem", resource: "/repo/src/a.ts" });
    expect(read!.outcome).toEqual({ status: "success", response_hash: payloadHash(response) });
    expect(query!.action.type).toBe("claude-code.db.query");
    expect(query!.outcome.status).toBe("failure");
    expect(query!.outcome.error).toBe("denied");
  });

  test("non-tool hook events are ignored; unusable input warns but exits 0 unless --strict", async () => {
    const d = await daemon();
    const env = { XDG_DATA_HOME: tempDir("ar-hook-data-"), AGENTRECEIPTS_SOCKET: d.socket };
    const stop = run(["hook", "claude-code"], { stdin: JSON.stringify({ hook_event_name: "Stop", session_id: "s" }), env });
    expect([stop.code, stop.stderr]).toEqual([0, ""]);
    const garbage = run(["hook", "claude-code"], { stdin: "not json", env });
    expect(garbage.code).toBe(0);
    expect(garbage.stderr).toContain("warning");
    expect(run(["hook", "claude-code", "--strict"], { stdin: "not json", env }).code).toBe(2);
    expect(readReceipts(d.db).length).toBe(0);
  });

  test("--strict fails closed: exit 2 (blocks the tool call) with the reason when the daemon is down", () => {
    const env = { XDG_DATA_HOME: tempDir("ar-hook-data-"), AGENTRECEIPTS_SOCKET: join(tempDir("ar-hook-"), "none.sock") };
    const r = run(["hook", "claude-code", "--strict"], { stdin: pre("s-strict", "Bash", { command: "ls" }), env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("none.sock");
  });
});

test("hook claude-code: a mistyped flag only warns (exit 0) unless --strict, so it never blocks the agent", () => {
  const payload = JSON.stringify({ hook_event_name: "PreToolUse", session_id: "typo", tool_name: "Read", tool_input: { file_path: "/x" } });
  // No daemon, and the drop counter in a scratch data directory, never the user's own.
  const env = { XDG_DATA_HOME: tempDir("ar-hook-data-"), AGENTRECEIPTS_SOCKET: join(tempDir("ar-hook-"), "none.sock") };
  const lenient = run(["hook", "claude-code", "--timout-ms", "5"], { stdin: payload, env });
  expect(lenient.code).toBe(0);
  expect(lenient.stderr).toContain("warning: unknown option");
  const strict = run(["hook", "claude-code", "--strict", "--timout-ms", "5"], { stdin: payload, env });
  expect(strict.code).toBe(2);
  expect(strict.stderr).toContain("unknown option");
});
