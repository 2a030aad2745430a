// `agent-receipts hook claude-code` through the compiled binary against the
// real daemon: --strict fails closed, an unusable invocation leaves a trace,
// PermissionDenied is recorded, an output too large for a frame still shows
// in the receipt, and Claude Code's (and Codex's) tools get their risk level.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { DropFile } from "../../src/emit-cli/drop-file.ts";
import { omittedPayload } from "../../src/hook/omitted.ts";
import { payloadHash } from "../../src/receipt/canonical.ts";
import type { DaemonHandle } from "../helpers/daemon.ts";
import { perTestDaemons } from "../helpers/per-test-daemons.ts";
import { BINARY, tempDir } from "../helpers/fixtures.ts";
import { cleanEnv, readReceipts, waitFor, type Row } from "../daemon/support.ts";

const { daemon } = perTestDaemons();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function hook(args: string[], stdin: string, env: Record<string, string>): Run {
  const r = spawnSync(BINARY, ["hook", "claude-code", ...args], { input: stdin, env: cleanEnv(env), encoding: "utf8", timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function hookEnv(d: DaemonHandle | { socket: string }): { env: Record<string, string>; dataDir: string } {
  const dataHome = tempDir("ar-hook-data-");
  return { env: { XDG_DATA_HOME: dataHome, AGENTRECEIPTS_SOCKET: d.socket }, dataDir: join(dataHome, "agent-receipts") };
}

const payload = (kind: string, session: string, tool: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ hook_event_name: kind, session_id: session, tool_name: tool, tool_input: { command: "ls" }, tool_use_id: "toolu_1", ...extra });

const action = (r: Row) => r.receipt.credentialSubject.action;

test("--strict fails closed: exit 2 with the reason when the event is not confirmed, or the flags are unusable", async () => {
  const d = await daemon();
  const { env, dataDir } = hookEnv(d);
  d.proc.kill("SIGSTOP");
  const stalled = hook(["--strict", "--timeout-ms", "200"], payload("PreToolUse", "s-strict", "Bash"), env);
  expect(stalled.code).toBe(2);
  expect(stalled.stderr).toContain("not confirmed within 200 ms (it may still be recorded)");
  d.proc.kill("SIGCONT");

  const badValue = hook(["--strict", "--timeout-ms", "soon"], payload("PreToolUse", "s-strict", "Bash"), env);
  expect(badValue.code).toBe(2);
  expect(badValue.stderr).toContain("--timeout-ms must be a number");
  expect(DropFile.forSession(dataDir, "claude-code", "s-strict").peek()).toBe(1);
  // Without --strict the same mistake only warns, and the event is recorded with the default timeout.
  const lenient = hook(["--timeout-ms", "soon"], payload("PreToolUse", "s-lenient", "Bash"), env);
  expect(lenient.code).toBe(0);
  expect(lenient.stderr).toContain("warning: --timeout-ms must be a number");
  await waitFor("both events", () => readReceipts(d.db).filter((r) => action(r).tool_name === "Bash"), (rows) => rows.length >= 2);
});

test("a mistyped flag exits 0 with a warning, counts the event as dropped, and the next delivered event reports it", async () => {
  const d = await daemon();
  const { env, dataDir } = hookEnv(d);
  const typo = hook(["--strcit"], payload("PreToolUse", "s-typo", "Bash"), env);
  expect(typo.code).toBe(0);
  expect(typo.stderr).toContain('warning: unknown option "--strcit"');
  expect(typo.stderr).toContain("counted as dropped");
  expect(DropFile.forSession(dataDir, "claude-code", "s-typo").peek()).toBe(1);
  const strictTypo = hook(["--strict", "--strcit"], payload("PostToolUse", "s-typo", "Bash"), env);
  expect(strictTypo.code).toBe(2);
  expect(DropFile.forSession(dataDir, "claude-code", "s-typo").peek()).toBe(2);
  // Not even JSON: the session is unknown, so whichever session delivers next reports it.
  expect(hook(["--strcit"], "garbage", env).code).toBe(0);

  const next = hook([], payload("PreToolUse", "s-typo", "Read", { tool_input: { file_path: "/x" } }), env);
  expect([next.code, next.stderr]).toEqual([0, ""]);
  const rows = readReceipts(d.db);
  expect(rows.map((r) => action(r).type)).toEqual(["agent_receipts.events_dropped", "claude-code.Read"]);
  expect(action(rows[0]!).emitter_metadata).toEqual({ drop_count: 3 });
  expect(DropFile.forSession(dataDir, "claude-code", "s-typo").peek()).toBe(0);
  expect(DropFile.forUnknownSession(dataDir, "claude-code").peek()).toBe(0);
});

test("an unusable payload is counted as dropped too; another hook event is not", async () => {
  const d = await daemon();
  const { env, dataDir } = hookEnv(d);
  const r = hook([], JSON.stringify({ hook_event_name: "PreToolUse", session_id: "s-bad" }), env);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("has no tool_name");
  expect(DropFile.forSession(dataDir, "claude-code", "s-bad").peek()).toBe(1);
  expect(hook([], JSON.stringify({ hook_event_name: "Stop", session_id: "s-bad" }), env).code).toBe(0);
  expect(DropFile.forSession(dataDir, "claude-code", "s-bad").peek()).toBe(1);
});

test("PermissionDenied is recorded as denied (outcome failure, the reason as error), closing the call's pending receipt", async () => {
  const d = await daemon();
  const { env } = hookEnv(d);
  expect(hook([], payload("PreToolUse", "s-deny", "Bash", { tool_use_id: "toolu_d" }), env).code).toBe(0);
  const denied = hook([], payload("PermissionDenied", "s-deny", "Bash", { tool_use_id: "toolu_d", reason: "blocked by the auto-mode classifier" }), env);
  expect([denied.code, denied.stderr]).toEqual([0, ""]);
  const [pending, deny] = readReceipts(d.db).map((r) => r.receipt.credentialSubject);
  expect(pending!.outcome.status).toBe("pending");
  expect(deny!.outcome).toEqual({ status: "failure", error: "blocked by the auto-mode classifier" });
  expect(deny!.correlation_id).toBe("toolu_d");
  expect(deny!.action.parameters_hash).toBe(payloadHash({ command: "ls" }));
});

test("an output over the 1 MiB frame limit: the receipt still has a response hash, of a stand-in that holds the output's hash", async () => {
  const d = await daemon();
  const { env } = hookEnv(d);
  const output = { stdout: "y".repeat(1_500_000), stderr: "" };
  const r = hook([], payload("PostToolUse", "s-big", "Bash", { tool_response: output }), env);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("stand-in");
  const [row] = readReceipts(d.db);
  const standIn = omittedPayload(output);
  expect(standIn.sha256).toBe(payloadHash(output));
  expect(row!.receipt.credentialSubject.outcome).toEqual({ status: "success", response_hash: payloadHash(standIn) });
  expect(action(row!).parameters_hash).toBe(payloadHash({ command: "ls" }));
});

test("risk levels: Claude Code's Read/Grep/Glob low, Write/Edit medium, Bash/WebFetch high; Codex's tools the same way", async () => {
  const d = await daemon();
  const { env } = hookEnv(d);
  const tools = ["Read", "Grep", "Glob", "Write", "Edit", "MultiEdit", "Bash", "WebFetch", "mcp__github__create_issue"];
  for (const tool of tools) expect(hook([], payload("PreToolUse", "s-risk", tool, { tool_input: {} }), env).code).toBe(0);
  for (const tool of ["apply_patch", "Bash", "shell", "update_plan"]) {
    const r = spawnSync(BINARY, ["emit", "--socket", d.socket, "--channel", "codex", "--tool", tool], { env: cleanEnv(), encoding: "utf8" });
    expect(r.status).toBe(0);
  }
  expect(readReceipts(d.db).map((r) => [action(r).type, action(r).risk_level])).toEqual([
    ["claude-code.Read", "low"], ["claude-code.Grep", "low"], ["claude-code.Glob", "low"],
    ["claude-code.Write", "medium"], ["claude-code.Edit", "medium"], ["claude-code.MultiEdit", "medium"],
    ["claude-code.Bash", "high"], ["claude-code.WebFetch", "high"], ["claude-code.github.create_issue", "medium"],
    ["codex.apply_patch", "medium"], ["codex.Bash", "high"], ["codex.shell", "high"], ["codex.update_plan", "low"],
  ]);
});
