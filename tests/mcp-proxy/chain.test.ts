// Seed regressions of the reference proxy, through the compiled binary and a
// real daemon: two proxies started at the same moment write into one chain
// with contiguous sequence numbers (no conflict, no retry), and a sandboxed
// proxy that cannot write the database path still records through the socket.
import { afterAll, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { startDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { BINARY } from "../helpers/fixtures.ts";
import { IS_ROOT } from "../helpers/os-users.ts";
import { chainProblems, cleanEnv, readReceipts, verify } from "../daemon/support.ts";
import { keyOf, killProxies, NODE, ProxyRun, SCRIPTED, sessionReceipts, subject } from "./support.ts";

const daemons: DaemonHandle[] = [];
afterAll(async () => {
  killProxies();
  for (const d of daemons) await d.stop("SIGKILL");
});

test("two proxies started at the same moment, each driving calls: one chain, contiguous sequences, no conflict or retry, and it verifies", async () => {
  const daemon = await startDaemon();
  daemons.push(daemon);
  const CALLS = 25;
  const runs = ["twin-a", "twin-b"].map((session) => ({ session, run: new ProxyRun({ proxyArgs: ["--session-id", session], env: { AGENTRECEIPTS_SOCKET: daemon.socket } }) }));
  await Promise.all(runs.map(({ run }) => run.initialize()));
  await Promise.all(runs.map(async ({ run }) => {
    for (let i = 1; i <= CALLS; i++) await run.call(i, "echo", { i });
  }));
  for (const { run } of runs) expect((await run.close()).code).toBe(0);
  const rows = readReceipts(daemon.db);
  expect(new Set(rows.map((r) => r.chain_id)).size).toBe(1);
  expect(chainProblems(rows)).toEqual([]);
  expect(rows).toHaveLength(2 * CALLS * 2);
  for (const { session } of runs) {
    const rs = sessionReceipts(daemon.db, session);
    expect(rs).toHaveLength(CALLS * 2);
    // One key per call, shared by its pending and final receipts.
    const stagesByKey = new Map<string, string[]>();
    for (const r of rs) stagesByKey.set(keyOf(r), [...(stagesByKey.get(keyOf(r)) ?? []), subject(r).outcome.status]);
    expect(stagesByKey.size).toBe(CALLS);
    for (const stages of stagesByKey.values()) expect(stages).toEqual(["pending", "success"]);
  }
  // Both proxies' frames interleave in the one chain.
  const sessions = rows.map((r) => r.receipt.issuer.session_id);
  expect(sessions.findIndex((s) => s === "twin-b")).toBeLessThan(sessions.lastIndexOf("twin-a"));
  expect(daemon.logs().filter((l) => l.event === "commit_failed" || l.event === "frame_rejected")).toEqual([]);
  const v = verify(daemon.db, daemon.publicKey);
  expect(v.code).toBe(0);
  expect(v.report.chains).toEqual([expect.objectContaining({ valid: true, count: 2 * CALLS * 2, retries: 0 })]);
});

test.skipIf(!IS_ROOT)("a sandboxed proxy (the daemon's directory, database and socket included, mounted read-only) records through the socket", async () => {
  const daemon = await startDaemon();
  daemons.push(daemon);
  const session = "sandboxed";
  // A private mount namespace in which the whole daemon directory is read-only; the probe proves it is.
  const script = [
    'mount --bind "$D" "$D" && mount -o remount,bind,ro "$D" || exit 90',
    'if touch "$D/probe" 2>/dev/null || touch "$D/receipts.db" 2>/dev/null; then exit 91; fi',
    'exec "$BIN" mcp-proxy --session-id sandboxed -- "$NODE" "$SERVER"',
  ].join("\n");
  const proc = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], {
    env: cleanEnv({ D: daemon.dir, BIN: BINARY, NODE, SERVER: SCRIPTED, AGENTRECEIPTS_SOCKET: daemon.socket }),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  proc.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } })}\n`);
  proc.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { sandboxed: true } } })}\n`);
  for (let i = 0; i < 500 && !out.includes('"id":1'); i++) await Bun.sleep(10);
  proc.stdin.end();
  const code = await new Promise<number | null>((resolve) => proc.on("exit", resolve));
  expect(err).toBe("");
  expect(code).toBe(0);
  expect(out).toContain('"id":1,"result"');
  const rs = sessionReceipts(daemon.db, session);
  expect(rs.map((r) => subject(r).outcome.status)).toEqual(["pending", "success"]);
});
