// `agent-receipts emit` through the compiled binary against the real daemon:
// a bad --stdin line sends nothing; "not confirmed" (the daemon may still
// record the event) is told apart from "not delivered" and "no daemon"; every
// event has an idempotency key (--json prints it, --idempotency-key sets it)
// so a retry is recognisable; --best-effort waits only briefly.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import type { DaemonHandle } from "../helpers/daemon.ts";
import { perTestDaemons } from "../helpers/per-test-daemons.ts";
import { BINARY } from "../helpers/fixtures.ts";
import { cleanEnv, readReceipts, waitFor, type Row } from "../daemon/support.ts";
import { fillBacklog } from "./backlog.ts";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const { cleanup, daemon } = perTestDaemons();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function emit(d: DaemonHandle, args: string[], stdin = ""): Run {
  const t0 = performance.now();
  const r = spawnSync(BINARY, ["emit", "--socket", d.socket, ...args], { input: stdin, env: cleanEnv(), encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>);
}

const keyOf = (r: Row) => r.receipt.credentialSubject.action.idempotency_key;

/** The stopped listener's queue of pending connections, full: held until the test ends. */
async function fullBacklog(path: string): Promise<Socket[]> {
  const held: Socket[] = [];
  cleanup.push(() => held.forEach((s) => s.destroy()));
  await fillBacklog(path, held);
  return held;
}

const line = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ tool: { name }, decision: "allowed", ...extra });

test("--stdin checks every line before sending any: a bad line sends nothing (exit 2), so retrying the fixed input duplicates nothing", async () => {
  const d = await daemon();
  const notJson = emit(d, ["--stdin"], `${line("a")}\n{oops\n${line("c")}\n`);
  expect(notJson.code).toBe(2);
  expect(notJson.stderr).toMatch(/stdin line 2 is not valid JSON: .*; nothing was sent/);
  const badField = emit(d, ["--stdin"], `${line("a")}\n${line("b")}\n{"tool":{"name":"c"},"decision":"sure"}\n`);
  expect(badField.code).toBe(2);
  expect(badField.stderr).toMatch(/stdin line 3: decision must be one of allowed, denied, pending; nothing was sent/);
  // Past the 16 MiB bound: refused whole, before anything is sent.
  const big = `${line("big", { input: "x".repeat(1000) })}\n`.repeat(Math.ceil((16 * 1024 * 1024 + 1) / 1040));
  const tooMuch = emit(d, ["--stdin"], big);
  expect(tooMuch.code).toBe(2);
  expect(tooMuch.stderr).toContain("stdin holds more than 16 MiB of events; nothing was sent");
  await Bun.sleep(300);
  expect(readReceipts(d.db)).toEqual([]);

  const fixed = emit(d, ["--stdin"], `${line("a")}\n${line("b")}\n${line("c")}\n`);
  expect([fixed.code, fixed.stderr]).toEqual([0, ""]);
  expect(readReceipts(d.db).map((r) => r.receipt.credentialSubject.action.tool_name)).toEqual(["a", "b", "c"]);
});

test("--json prints each event's idempotency key and status; a line's own key is kept; the receipts carry the keys", async () => {
  const d = await daemon();
  const one = emit(d, ["--tool", "t", "--json"]);
  expect([one.code, one.stderr]).toEqual([0, ""]);
  const [printed] = jsonLines(one.stdout);
  expect(printed!.status).toBe("recorded");
  expect(printed!.idempotency_key).toMatch(UUID_V4);
  const many = emit(d, ["--stdin", "--json"], `${line("a")}\n\n${line("b", { idempotency_key: "mine-1" })}\n`);
  expect(many.code).toBe(0);
  const rows = jsonLines(many.stdout);
  expect(rows.map((r) => [r.line, r.status])).toEqual([[1, "recorded"], [3, "recorded"]]);
  expect(rows[0]!.idempotency_key).toMatch(UUID_V4);
  expect(rows[1]!.idempotency_key).toBe("mine-1");
  expect(readReceipts(d.db).map(keyOf)).toEqual([printed!.idempotency_key, rows[0]!.idempotency_key, "mine-1"]);
});

test("a stalled daemon: 'not confirmed within N ms (it may still be recorded)', never 'no daemon'; it is recorded later, and a retry with the printed key is recognisable", async () => {
  const d = await daemon();
  d.proc.kill("SIGSTOP");
  const r = emit(d, ["--tool", "t", "--timeout-ms", "300", "--json"]);
  expect(r.code).toBe(1);
  const [printed] = jsonLines(r.stdout);
  expect(printed!.status).toBe("unconfirmed");
  const key = printed!.idempotency_key as string;
  expect(key).toMatch(UUID_V4);
  expect(r.stderr).toContain(`the event reached the daemon at ${d.socket} but was not confirmed within 300 ms (it may still be recorded)`);
  expect(r.stderr).toContain(`Retry with --idempotency-key ${key}`);
  expect(r.stderr).not.toMatch(/no daemon|Is the daemon running/);
  expect(r.stderr.trim().split("\n").length).toBe(1);

  d.proc.kill("SIGCONT");
  const rows = await waitFor("the unconfirmed event to be committed", () => readReceipts(d.db), (x) => x.length === 1);
  expect(keyOf(rows[0]!)).toBe(key);
  const retry = emit(d, ["--tool", "t", "--idempotency-key", key, "--json"]);
  expect(retry.code).toBe(0);
  expect(jsonLines(retry.stdout)).toEqual([{ idempotency_key: key, status: "recorded" }]);
  expect(readReceipts(d.db).map(keyOf)).toEqual([key, key]);
});

test("a stalled daemon with a full backlog: not delivered, 'not accepting connections', never 'no daemon'; nothing is recorded later", async () => {
  const d = await daemon();
  d.proc.kill("SIGSTOP");
  const held = await fullBacklog(d.socket);
  const r = emit(d, ["--tool", "refused", "--json"]);
  expect(r.code).toBe(1);
  expect(jsonLines(r.stdout)[0]!.status).toBe("not_delivered");
  // The daemon's status file names its live pid: a daemon is there, it just does not accept.
  expect(r.stderr).toContain(`not delivered: the daemon at ${d.socket} (pid ${d.proc.pid}) is not accepting connections: it is stalled or overloaded`);
  expect(r.stderr).toContain("The daemon is running but stalled or overloaded: see its log.");
  expect(r.stderr).not.toMatch(/no daemon|ECONNREFUSED|Is the daemon running/);
  held.forEach((s) => s.destroy());
  d.proc.kill("SIGCONT");
  const after = emit(d, ["--tool", "after"]);
  expect(after.code).toBe(0);
  expect(readReceipts(d.db).map((x) => x.receipt.credentialSubject.action.tool_name)).toEqual(["after"]);
});

test("no daemon left behind its socket file (SIGKILL): 'no daemon listening' and how to start one", async () => {
  const d = await daemon();
  await d.stop("SIGKILL");
  expect(existsSync(d.socket)).toBe(true);
  const r = emit(d, ["--tool", "t"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`not delivered: no daemon listening at ${d.socket} (ECONNREFUSED: the socket file is left over). Is the daemon running? Start it with "agent-receipts daemon"`);
});

test("--best-effort waits at most 200 ms for the confirmation, then exits 0 with the warning", async () => {
  const d = await daemon();
  d.proc.kill("SIGSTOP");
  const r = emit(d, ["--tool", "t", "--best-effort"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toStartWith("agent-receipts: warning: the event reached the daemon");
  expect(r.stderr).toContain("not confirmed within 200 ms (it may still be recorded)");
  // The default --timeout-ms is 2000: best effort must not wait that long for a stalled daemon.
  expect(r.ms).toBeLessThan(1000);
});
