// What the proxy records, through the compiled binary, a real daemon and the
// scripted server: pending + final per tools/call, paired; ids by JSON type;
// isError, JSON-RPC errors, cancellation, a server crash and a call that never
// returns all end as failures; 2026-07-28 interim results and retries; the
// server name and session id; and the drop count after a daemon outage.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { expectedHash, readReceipts, verify } from "../daemon/support.ts";
import { byCorrelation, keyOf, killProxies, ProxyRun, receiptsOf, sessionReceipts, subject, textOf, type Msg } from "./support.ts";

let daemon: DaemonHandle;
beforeAll(async () => {
  daemon = await startDaemon();
});
afterAll(async () => {
  killProxies();
  await daemon.stop("SIGKILL");
});

let sessions = 0;
function proxy(extra: string[] = [], env: Record<string, string> = {}) {
  const session = `rec-${process.pid}-${++sessions}`;
  const run = new ProxyRun({ proxyArgs: ["--session-id", session, ...extra], env: { AGENTRECEIPTS_SOCKET: daemon.socket, ...env } });
  return { run, session };
}

describe("each tools/call leaves a pending and a final receipt", () => {
  test("success: pending with the arguments' hash, then success with the result's hash; one correlation id and one idempotency key (the session-scoped JSON-RPC id); the chain verifies", async () => {
    const { run, session } = proxy();
    const init = await run.initialize();
    expect((init.result as Msg).serverInfo).toEqual({ name: "scripted", version: "1.0.0" });
    const args = { path: "/etc/hosts", n: 1.5, nested: { list: [1, "two", null] } };
    const r = await run.call(1, "echo", args);
    const pending = (await receiptsOf(daemon.db, session, 1))[0]!;
    // The pending receipt exists while the session is still open.
    expect(subject(pending).outcome.status).toBe("pending");
    expect((await run.close()).code).toBe(0);
    const [p, f] = sessionReceipts(daemon.db, session);
    expect(p!.id).toBe(pending.id);
    for (const x of [p!, f!]) {
      expect(subject(x).action.tool_name).toBe("echo");
      expect(subject(x).action.type).toBe("mcp.scripted.echo");
      expect(subject(x).action.parameters_hash).toBe(expectedHash(args));
      expect(subject(x).correlation_id).toBe(`${session}/1/1`);
    }
    expect(keyOf(p!)).toBe(`${session}/1/1`);
    expect(keyOf(f!)).toBe(`${session}/1/1`);
    expect(subject(p!).outcome).toEqual({ status: "pending" });
    expect(subject(f!).outcome).toEqual({ status: "success", response_hash: expectedHash(r.result) });
    // Sharing the key, the pending and final receipts are one call's two stages, not a retry.
    const v = verify(daemon.db, daemon.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains.map((c) => c.retries)).toEqual(v.report.chains.map(() => 0));
  });

  test('ids 1 and "1" are two calls: answered out of order, each final receipt has its own result', async () => {
    const { run, session } = proxy();
    await run.initialize();
    run.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "slow", arguments: { ms: 300 } } });
    run.send({ jsonrpc: "2.0", id: "1", method: "tools/call", params: { name: "slow", arguments: { ms: 10 } } });
    const second = await run.response("1");
    const first = await run.response(1);
    expect(textOf(second)).toBe("slept 10");
    expect(textOf(first)).toBe("slept 300");
    await run.close();
    const calls = byCorrelation(sessionReceipts(daemon.db, session));
    const numeric = calls.get(`${session}/1/1`)!;
    const text = calls.get(`${session}/2/"1"`)!;
    expect(numeric.map((r) => subject(r).outcome.status)).toEqual(["pending", "success"]);
    expect(text.map((r) => subject(r).outcome.status)).toEqual(["pending", "success"]);
    expect(subject(numeric[1]!).outcome.response_hash).toBe(expectedHash(first.result));
    expect(subject(text[1]!).outcome.response_hash).toBe(expectedHash(second.result));
  });

  test("isError: true and a JSON-RPC error are failures with the error set", async () => {
    const { run, session } = proxy();
    await run.initialize();
    const failed = await run.call(1, "fail");
    const rpc = await run.call(2, "rpc-error");
    expect((failed.result as Msg).isError).toBe(true);
    expect((rpc.error as Msg).code).toBe(-32001);
    await run.close();
    const calls = byCorrelation(sessionReceipts(daemon.db, session));
    const fail = calls.get(`${session}/1/1`)![1]!;
    expect(subject(fail).outcome).toEqual({ status: "failure", error: "boom: the tool failed", response_hash: expectedHash(failed.result) });
    const err = calls.get(`${session}/2/2`)![1]!;
    expect(subject(err).outcome).toEqual({ status: "failure", error: "JSON-RPC error -32001: tool exploded" });
  });

  test("a call whose answer never comes: pending at once, a failure when the client closes", async () => {
    const { run, session } = proxy();
    await run.initialize();
    run.send({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "never", arguments: { x: 1 } } });
    const [pending] = await receiptsOf(daemon.db, session, 1);
    expect(subject(pending!).outcome.status).toBe("pending");
    expect((await run.close()).code).toBe(0);
    const [, final] = sessionReceipts(daemon.db, session);
    expect(subject(final!).outcome.status).toBe("failure");
    expect(subject(final!).outcome.error).toBe("the client closed the connection and the proxy shut down before the server answered (the server exited with code 0)");
    expect(keyOf(final!)).toBe(`${session}/1/7`);
  });

  test("the server crashes mid-call: the call fails naming the exit, and the proxy exits with the server's code", async () => {
    const { run, session } = proxy();
    await run.initialize();
    run.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "slow", arguments: { ms: 5000 } } });
    run.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "crash", arguments: {} } });
    const { code } = await run.exited;
    expect(code).toBe(3);
    const finals = sessionReceipts(daemon.db, session).filter((r) => subject(r).outcome.status !== "pending");
    expect(finals).toHaveLength(2);
    for (const f of finals) expect(subject(f).outcome.error).toBe("the server exited with code 3 before answering");
  });

  test("notifications/cancelled ends the call as a failure with the reason; a late answer changes nothing", async () => {
    const { run, session } = proxy();
    await run.initialize();
    run.send({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "slow", arguments: { ms: 200 } } });
    run.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 4, reason: "user pressed stop" } });
    await run.response(4); // the scripted server answers anyway
    await run.close();
    const rs = sessionReceipts(daemon.db, session);
    expect(rs.map((r) => subject(r).outcome.status)).toEqual(["pending", "failure"]);
    expect(subject(rs[1]!).outcome.error).toBe("cancelled by the client: user pressed stop");
  });

  test("a lone surrogate in a tool name or an error text does not cost the receipts (the daemon would drop such a frame)", async () => {
    const { run, session } = proxy();
    await run.initialize();
    const r = await run.call(1, "bad\ud800name");
    expect((r.error as Msg).message).toBe("unknown tool bad\ud800name");
    await run.close();
    const rs = sessionReceipts(daemon.db, session);
    expect(rs.map((x) => subject(x).action.tool_name)).toEqual(["bad\ufffdname", "bad\ufffdname"]);
    expect(subject(rs[1]!).outcome).toEqual({ status: "failure", error: "JSON-RPC error -32602: unknown tool bad\ufffdname" });
    expect(run.stderr).toBe("");
  });

  test("a batch is inspected element by element", async () => {
    const { run, session } = proxy();
    await run.initialize();
    run.write(`${JSON.stringify([
      { jsonrpc: "2.0", id: 10, method: "tools/call", params: { name: "echo", arguments: { b: 1 } } },
      { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1 } },
      { jsonrpc: "2.0", id: "10", method: "tools/call", params: { name: "fail", arguments: {} } },
    ])}\n`);
    const batch = await run.next((m) => Array.isArray(m));
    expect(batch).toHaveLength(2);
    await run.close();
    const calls = byCorrelation(sessionReceipts(daemon.db, session));
    expect(calls.get(`${session}/1/10`)!.map((r) => subject(r).outcome.status)).toEqual(["pending", "success"]);
    expect(calls.get(`${session}/2/"10"`)!.map((r) => subject(r).outcome.status)).toEqual(["pending", "failure"]);
  });
});

test("a line over 1 MiB: the call is recorded whatever keys come before its method and name; in a batch, the first 1024 messages are, and the limit is said on stderr", async () => {
  const { run, session } = proxy();
  await run.initialize();
  const big = "z".repeat(1 << 20);
  const pad = JSON.stringify(Object.fromEntries(Array.from({ length: 1100 }, (_, i) => [`k${i}`, i]))).slice(1, -1);
  run.write(`{"jsonrpc":"2.0","id":1,"params":{"arguments":{"b":"${big}"},${pad},"name":"echo"},${pad},"method":"tools/call"}\n`);
  await run.response(1);
  const notes = Array.from({ length: 1100 }, (_, i) => ({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "t", progress: i } }));
  const call = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { b: big } } });
  run.write(`${JSON.stringify([call(2), ...notes, call(3)])}\n`);
  const answers = (await run.next((m) => Array.isArray(m), 20_000)) as Msg[];
  expect(answers.map((m) => m.id)).toEqual([2, 3]);
  await run.close();
  const calls = byCorrelation(sessionReceipts(daemon.db, session));
  expect([...calls.keys()]).toEqual([`${session}/1/1`, `${session}/2/2`]);
  for (const rs of calls.values()) expect(rs.map((r) => [subject(r).action.tool_name, subject(r).outcome.status])).toEqual([["echo", "pending"], ["echo", "success"]]);
  expect(run.stderr).toMatch(/warning: a batch of 1102 messages in one line of \d+ bytes: messages after the 1024th are relayed but not recorded/);
}, 30_000);

describe("names and ids", () => {
  test("--name overrides serverInfo.name; the tool-use id from _meta is the correlation id", async () => {
    const { run, session } = proxy(["--name", "my-files"]);
    await run.initialize();
    await run.call(1, "echo", {}, { _meta: { "claudecode/toolUseId": "toolu_01ABC" } });
    await run.close();
    const rs = sessionReceipts(daemon.db, session);
    expect(rs.map((r) => subject(r).action.type)).toEqual(["mcp.my-files.echo", "mcp.my-files.echo"]);
    expect(rs.map((r) => subject(r).correlation_id)).toEqual(["toolu_01ABC", "toolu_01ABC"]);
  });

  test("the session id: --session-id, else $AGENTRECEIPTS_SESSION_ID, else one fresh UUID per run", async () => {
    const fromEnv = `env-${process.pid}`;
    const a = new ProxyRun({ env: { AGENTRECEIPTS_SOCKET: daemon.socket, AGENTRECEIPTS_SESSION_ID: fromEnv } });
    await a.initialize();
    await a.call(1, "echo");
    await a.close();
    expect(sessionReceipts(daemon.db, fromEnv)).toHaveLength(2);
    const b = new ProxyRun({ env: { AGENTRECEIPTS_SOCKET: daemon.socket } });
    await b.initialize();
    await b.call(1, "echo", { unique: `${process.pid}-fresh` });
    await b.call(2, "echo");
    await b.close();
    const mine = readReceipts(daemon.db).map((r) => r.receipt).filter((r) => subject(r).action.parameters_hash === expectedHash({ unique: `${process.pid}-fresh` }));
    const session = mine[0]!.issuer.session_id!;
    expect(session).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sessionReceipts(daemon.db, session)).toHaveLength(4);
  });
});

test("revision 2026-07-28: no initialize, server/discover names the server, an input_required result is recorded and the retry is linked", async () => {
  const { run, session } = proxy();
  const meta = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": { elicitation: {} } };
  await run.request("d", "server/discover", { _meta: meta });
  const interim = await run.call("a1", "ask", { table: "users" }, { _meta: meta });
  expect((interim.result as Msg).resultType).toBe("input_required");
  const requestState = (interim.result as Msg).requestState as string;
  const done = await run.call("a2", "ask", { table: "users" }, { _meta: meta, inputResponses: { confirm: { action: "accept", content: {} } }, requestState });
  expect((done.result as Msg).resultType).toBe("complete");
  await run.close();
  const rs = sessionReceipts(daemon.db, session);
  expect(rs).toHaveLength(4);
  // One correlation id for the whole exchange: the first request's key.
  expect(new Set(rs.map((r) => subject(r).correlation_id))).toEqual(new Set([`${session}/1/"a1"`]));
  expect(rs.map((r) => keyOf(r))).toEqual([`${session}/1/"a1"`, `${session}/1/"a1"`, `${session}/2/"a2"`, `${session}/2/"a2"`]);
  expect(rs.map((r) => subject(r).outcome.status)).toEqual(["pending", "pending", "pending", "success"]);
  expect(subject(rs[1]!).outcome.response_hash).toBe(expectedHash(interim.result));
  expect(subject(rs[3]!).outcome.response_hash).toBe(expectedHash(done.result));
  expect(rs.map((r) => subject(r).action.type)).toEqual(Array(4).fill("mcp.scripted-2026.ask"));
});

test("daemon down: the relay goes on, and the first frame once it is back carries the drop count", async () => {
  const dir = tempDir("ar-proxy-outage-");
  const socket = join(dir, "run", "events.sock");
  const session = `outage-${process.pid}`;
  const run = new ProxyRun({ proxyArgs: ["--session-id", session], env: { AGENTRECEIPTS_SOCKET: socket } });
  await run.initialize();
  for (let i = 1; i <= 3; i++) expect(textOf(await run.call(i, "echo", { i }))).toBe(JSON.stringify({ i }));
  const back = await startDaemon({ dir });
  try {
    await run.call(4, "echo", { i: 4 });
    expect((await run.close()).code).toBe(0);
    expect(run.stderr).toContain("tool calls are not being recorded: no daemon socket at");
    const rows = readReceipts(back.db).map((r) => r.receipt).filter((r) => r.issuer.session_id === session);
    // 3 calls x 2 frames were dropped; the pending frame of call 4 reports them first.
    expect(rows.map((r) => subject(r).action.tool_name)).toEqual(["events_dropped", "echo", "echo"]);
    expect(subject(rows[0]!).action.emitter_metadata).toEqual({ drop_count: 6 });
    expect(keyOf(rows[1]!)).toBe(`${session}/4/4`);
  } finally {
    await back.stop("SIGKILL");
  }
});

test("daemon down until the proxy exits: the drops are kept, and the next proxy run that reaches the daemon reports them", async () => {
  const dir = tempDir("ar-proxy-carry-");
  const socket = join(dir, "run", "events.sock");
  // Both runs share one data directory, as two runs of one user's proxy do.
  const env = { AGENTRECEIPTS_SOCKET: socket, XDG_DATA_HOME: tempDir("ar-proxy-carry-data-") };
  const counter = join(env.XDG_DATA_HOME, "agent-receipts", "emitter-drops", "mcp-carried-over.count");
  const first = new ProxyRun({ proxyArgs: ["--session-id", "carry-1"], env });
  await first.initialize();
  for (let i = 1; i <= 2; i++) await first.call(i, "echo", { i });
  expect((await first.close()).code).toBe(0);
  expect(first.stderr).toContain("the next mcp-proxy run that reaches the daemon reports the 4 dropped");
  expect(readFileSync(counter, "utf8")).toBe("4\n");

  const back = await startDaemon({ dir });
  try {
    const second = new ProxyRun({ proxyArgs: ["--session-id", "carry-2"], env });
    await second.initialize();
    await second.call(1, "echo", { i: 1 });
    expect((await second.close()).code).toBe(0);
    const rows = readReceipts(back.db).map((r) => r.receipt).filter((r) => r.issuer.session_id === "carry-2");
    expect(rows.map((r) => subject(r).action.tool_name)).toEqual(["events_dropped", "echo", "echo"]);
    expect(subject(rows[0]!).action.emitter_metadata).toEqual({ drop_count: 4 });
    expect(existsSync(counter)).toBe(false);
  } finally {
    await back.stop("SIGKILL");
  }
});
