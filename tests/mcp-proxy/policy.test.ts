// The optional policy, through the compiled binary: deny answers the client
// and never reaches the server; pause holds only that call while other traffic
// flows, until `agent-receipts approve|deny` (over the user's Unix socket) or
// the timeout; risk levels via the action-type table; batches with a denied
// element; bad policy files refused at start with the line.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { expectedHash, runCli } from "../daemon/support.ts";
import { byCorrelation, killProxies, ProxyRun, sessionReceipts, subject, textOf, type Msg } from "./support.ts";

let daemon: DaemonHandle;
let dir: string;
let approvals: string;
beforeAll(async () => {
  daemon = await startDaemon();
  dir = tempDir("ar-proxy-policy-");
  approvals = join(dir, "approvals");
});
afterAll(async () => {
  killProxies();
  await daemon.stop("SIGKILL");
});

let files = 0;
function policyFile(text: string): string {
  const file = join(dir, `policy-${++files}.toml`);
  writeFileSync(file, text);
  return file;
}

function proxy(policy: string, session: string, extraEnv: Record<string, string> = {}) {
  const tee = join(dir, session);
  const run = new ProxyRun({
    proxyArgs: ["--session-id", session, "--policy", policy],
    env: { AGENTRECEIPTS_SOCKET: daemon.socket, AGENTRECEIPTS_APPROVAL_DIR: approvals, SCRIPTED_TEE: tee, ...extraEnv },
  });
  return { run, serverRead: () => (existsSync(`${tee}.in`) ? readFileSync(`${tee}.in`, "utf8") : "") };
}

const cli = (args: string[]) => runCli(args, { AGENTRECEIPTS_APPROVAL_DIR: approvals });

/** The call id the proxy printed for its paused call. */
async function pausedCallId(run: ProxyRun): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const m = /call ([a-z0-9]+-\d+) \(tool "[^"]+"[^)]*\) is paused/.exec(run.stderr);
    if (m !== null) return m[1]!;
    await Bun.sleep(10);
  }
  throw new Error(`no paused call announced; stderr:\n${run.stderr}`);
}

describe("deny and pause", () => {
  test("deny: the client gets error -32060 naming the rule, the server never sees the call, the receipt says denied", async () => {
    const policy = policyFile('[[rule]]\nname = "no-deletes"\ntool = ["delete_*", "fail"]\naction = "deny"\n');
    const { run, serverRead } = proxy(policy, "deny");
    await run.initialize();
    const denied = await run.call(1, "fail", { path: "/x" });
    expect(denied.error).toEqual({
      code: -32060,
      message: 'agent-receipts: the call to tool "fail" was denied by policy rule "no-deletes"',
      data: { rule: "no-deletes", call_id: expect.stringMatching(/^[a-z0-9]+-1$/), reason: "policy" },
    });
    expect(textOf(await run.call(2, "echo", { ok: true }))).toBe('{"ok":true}');
    await run.close();
    expect(serverRead()).not.toContain('"fail"');
    const calls = byCorrelation(sessionReceipts(daemon.db, "deny"));
    expect(calls.get("deny/1/1")!.map((r) => subject(r).outcome)).toEqual([{ status: "failure", error: 'denied by policy rule "no-deletes"' }]);
    expect(subject(calls.get("deny/1/1")![0]!).action.parameters_hash).toBe(expectedHash({ path: "/x" }));
    expect(calls.get("deny/2/2")!.map((r) => subject(r).outcome.status)).toEqual(["pending", "success"]);
  });

  test("pause holds only that call: other calls go through meanwhile; approve (and approve --list) releases it to the server", async () => {
    const policy = policyFile('pause_timeout_seconds = 30\n[[rule]]\nname = "ask-first"\ntool = "slow"\naction = "pause"\n');
    const { run, serverRead } = proxy(policy, "approve");
    await run.initialize();
    run.send({ jsonrpc: "2.0", id: "held", method: "tools/call", params: { name: "slow", arguments: { ms: 1 } } });
    const callId = await pausedCallId(run);
    // Other traffic keeps flowing while the call waits.
    for (let i = 1; i <= 3; i++) expect(textOf(await run.call(i, "echo", { i }))).toBe(JSON.stringify({ i }));
    expect(serverRead()).not.toContain('"held"');
    const list = cli(["approve", "--list", "--json"]);
    expect(list.code).toBe(0);
    const waiting = list.stdout.trim().split("\n").map((l) => JSON.parse(l) as Msg);
    expect(waiting).toEqual([expect.objectContaining({ call_id: callId, tool: "slow", server: "scripted", rule: "ask-first", session_id: "approve", timeout_ms: 30_000 })]);
    const approved = cli(["approve", callId]);
    expect(approved.stderr).toBe("");
    expect(approved.stdout).toBe(`approved ${callId}: tool "slow" goes to the server\n`);
    expect(approved.code).toBe(0);
    expect(textOf(await run.response("held"))).toBe("slept 1");
    // Decided once: a second decision finds nothing waiting.
    const again = cli(["deny", callId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no call ${callId} is waiting for approval`);
    await run.close();
    const held = byCorrelation(sessionReceipts(daemon.db, "approve")).get('approve/1/"held"')!;
    expect(held.map((r) => subject(r).outcome.status)).toEqual(["pending", "success"]);
  });

  test("pause, then deny with a reason: the client gets the error, the receipt records the reason", async () => {
    const policy = policyFile('[[rule]]\nname = "ask"\ntool = "echo"\naction = "pause"\n');
    const { run, serverRead } = proxy(policy, "deny-paused");
    await run.initialize();
    run.send({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "echo", arguments: { rm: "-rf" } } });
    const callId = await pausedCallId(run);
    const r = cli(["deny", callId, "--reason", "not on a Friday"]);
    expect(r.code).toBe(0);
    const answer = await run.response(9);
    expect(answer.error).toEqual({
      code: -32060, message: `agent-receipts: the call to tool "echo" was denied by the approver: not on a Friday (policy rule "ask")`,
      data: { rule: "ask", call_id: callId, reason: "denied", message: "not on a Friday" },
    });
    await run.close();
    expect(serverRead()).not.toContain("rm");
    const rs = sessionReceipts(daemon.db, "deny-paused");
    expect(rs.map((x) => subject(x).outcome)).toEqual([{ status: "pending" }, { status: "failure", error: 'denied by the approver: not on a Friday (policy rule "ask")' }]);
  });

  test("the client closes its end while a call is paused: the call is refused at once (the server's stdin is closed, it could never get there), and approving it afterwards finds nothing", async () => {
    const policy = policyFile('[[rule]]\nname = "ask"\ntool = "echo"\naction = "pause"\n');
    const tee = join(dir, "eof-paused");
    const run = new ProxyRun({
      proxyArgs: ["--session-id", "eof-paused", "--policy", policy, "--grace-ms", "1500"],
      env: { AGENTRECEIPTS_SOCKET: daemon.socket, AGENTRECEIPTS_APPROVAL_DIR: approvals, SCRIPTED_TEE: tee, SCRIPTED_IGNORE_EOF: "1" },
    });
    await run.initialize();
    run.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { late: true } } });
    const callId = await pausedCallId(run);
    const t0 = performance.now();
    run.proc.stdin.end();
    const answer = await run.response(1);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect((answer.error as Msg).data).toEqual({ rule: "ask", call_id: callId, reason: "shutdown" });
    const late = cli(["approve", callId]);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain(`no call ${callId} is waiting for approval`);
    expect((await run.exited).code).toBe(143);
    expect(readFileSync(`${tee}.in`, "utf8")).not.toContain("late");
    expect(sessionReceipts(daemon.db, "eof-paused").map((x) => subject(x).outcome)).toEqual([
      { status: "pending" }, { status: "failure", error: 'the proxy shut down while the call waited for approval (policy rule "ask")' },
    ]);
  });

  test("the server dies in the middle of writing a line while a call is paused: the refusal still reaches the client as a line of its own", async () => {
    const policy = policyFile('[[rule]]\nname = "ask"\ntool = "echo"\naction = "pause"\n');
    const { run } = proxy(policy, "torn");
    await run.initialize();
    run.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: {} } });
    const callId = await pausedCallId(run);
    run.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "torn", arguments: {} } });
    expect((await run.exited).code).toBe(3);
    const tail = run.outputLines.slice(-2);
    expect(tail[0]).toBe('{"jsonrpc":"2.0","id":');
    expect(JSON.parse(tail[1]!)).toMatchObject({ id: 1, error: { code: -32060, data: { rule: "ask", call_id: callId, reason: "shutdown" } } });
  });

  test("pause that nobody decides: refused at the rule's timeout", async () => {
    const policy = policyFile('[[rule]]\nname = "quick"\naction = "pause"\ntimeout_seconds = 0.3\n');
    const { run } = proxy(policy, "timeout");
    await run.initialize();
    const t0 = performance.now();
    const answer = await run.call(1, "echo");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect((answer.error as Msg).data).toEqual({ rule: "quick", call_id: expect.any(String), reason: "timeout" });
    await run.close();
    expect(sessionReceipts(daemon.db, "timeout").map((x) => subject(x).outcome.error)).toEqual([undefined, 'not approved in time (policy rule "quick")']);
  });

  test("approve/deny of an unknown or malformed call id: exit 1 / 2 with the fix", () => {
    const unknown = cli(["approve", "zzzzzzzz-1"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no call zzzzzzzz-1 is waiting for approval');
    expect(unknown.stderr).toContain("agent-receipts approve --list");
    const bad = cli(["deny", "not a call"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"not a call" is not a call id');
    expect(cli(["approve"]).code).toBe(2);
  });

  test("risk levels come from the action-type table; a batch with a denied element forwards the rest exactly as written", async () => {
    const policy = policyFile([
      '[[action_type]]\ntool = "fail"\ntype = "system.command.execute"\n',
      '[[rule]]\nname = "no-high-risk"\nrisk = ["high", "critical"]\naction = "deny"\n',
    ].join("\n"));
    const { run, serverRead } = proxy(policy, "batch");
    await run.initialize();
    const kept = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"n": 1.0}}}';
    run.write(`[${kept} , {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"fail"}}]\n`);
    const denied = await run.response(2);
    expect((denied.error as Msg).data).toMatchObject({ rule: "no-high-risk", reason: "policy" });
    const batch = await run.next((m) => Array.isArray(m));
    expect((batch as Msg[]).map((m) => m.id)).toEqual([1]);
    await run.close();
    expect(serverRead()).toContain(`[${kept}]\n`);
    const rs = byCorrelation(sessionReceipts(daemon.db, "batch"));
    const high = rs.get("batch/2/2")![0]!;
    expect(subject(high).action.type).toBe("system.command.execute");
    expect(subject(high).action.risk_level).toBe("high");
    expect(rs.get("batch/1/1")!.map((r) => subject(r).action.risk_level)).toEqual(["medium", "medium"]);
  });
});

test("a line over the 1 MiB buffer cannot slip a denied call past the policy: not behind a thousand keys, not late in a batch; a batch's later elements are all forwarded", async () => {
  const policy = policyFile('[[rule]]\nname = "no-echo"\ntool = "echo"\naction = "deny"\n');
  const { run, serverRead } = proxy(policy, "long-lines");
  await run.initialize();
  const big = "z".repeat(1 << 20);
  const pad = JSON.stringify(Object.fromEntries(Array.from({ length: 1100 }, (_, i) => [`k${i}`, i]))).slice(1, -1);
  // method and params.name come after 1100 other keys, in a line the proxy reads as it streams by.
  run.write(`{"jsonrpc":"2.0","id":1,"params":{"arguments":{"b":"${big}"},${pad},"name":"echo"},${pad},"method":"tools/call"}\n`);
  expect(((await run.response(1)).error as Msg).data).toMatchObject({ rule: "no-echo", reason: "policy" });
  // A denied call after 1100 notifications in one batch.
  const notes = Array.from({ length: 1100 }, (_, i) => ({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "t", progress: i } }));
  run.write(`${JSON.stringify([...notes, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: { b: big } } }])}\n`);
  expect(((await run.response(2)).error as Msg).data).toMatchObject({ rule: "no-echo", reason: "policy" });
  // A denied call first, then 1100 pings: every ping reaches the server.
  const pings = Array.from({ length: 1100 }, (_, i) => ({ jsonrpc: "2.0", id: 100 + i, method: "ping" }));
  run.write(`${JSON.stringify([{ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: { b: big } } }, ...pings])}\n`);
  expect(((await run.response(3)).error as Msg).data).toMatchObject({ rule: "no-echo", reason: "policy" });
  const answered = await run.next((m) => Array.isArray(m) && (m as Msg[])[0]?.id === 100, 20_000);
  expect((answered as Msg[]).map((m) => m.id)).toEqual(pings.map((p) => p.id));
  await run.close();
  expect(serverRead()).not.toContain('"echo"');
  const calls = byCorrelation(sessionReceipts(daemon.db, "long-lines"));
  expect([...calls.values()].map((rs) => rs.map((r) => [subject(r).action.tool_name, subject(r).outcome.status]))).toEqual([
    [["echo", "failure"]], [["echo", "failure"]], [["echo", "failure"]],
  ]);
}, 30_000);

describe("bad policy files are refused at start, with the line", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["syntax", 'default = "allow"\n[[rule]]\nname = "a"\naction = allow\n', /:4: not valid TOML/],
    ["unknown key", '[[rule]]\nname = "a"\naction = "deny"\ntools = "x"\n', /:4: rule "?1"?: unknown key "tools"; the keys are name, tool, server, risk, action, timeout_seconds/],
    ["bad action", '[[rule]]\nname = "a"\n\naction = "block"\n', /:4: rule "a": action must be one of allow, deny, pause \(got "block"\)/],
    ["duplicate name", '[[rule]]\nname = "a"\naction = "deny"\n[[rule]]\nname = "a"\naction = "allow"\n', /:5: rule 2: the name "a" is used by an earlier rule/],
    ["bad risk", '[[rule]]\nname = "a"\nrisk = "severe"\naction = "deny"\n', /:3: rule "a": risk must be one of low, medium, high, critical/],
    ["timeout on deny", '[[rule]]\nname = "a"\naction = "deny"\ntimeout_seconds = 5\n', /:4: rule "a": timeout_seconds applies only to action = "pause"/],
    ["top-level typo", 'pause_timeout = 5\n', /:1: unknown key "pause_timeout"/],
    ["timeout under a millisecond", '\npause_timeout_seconds = 0.0001\n', /:2: pause_timeout_seconds must be a number of seconds, from 0.001 to 86400 \(got 0.0001\)/],
    ["timeout not a number", '[[rule]]\nname = "a"\naction = "pause"\ntimeout_seconds = nan\n', /:4: rule "a": timeout_seconds must be a number of seconds, from 0.001 to 86400 \(got NaN\)/],
    ["duplicate key", '[[rule]]\nname = "a"\naction = "deny"\naction = "allow"\n', /:4: not valid TOML: Cannot redefine key 'action'/],
  ];
  for (const [what, text, message] of cases) {
    test(what, async () => {
      const file = policyFile(text);
      const { run, serverRead } = proxy(file, `bad-${what}`);
      const { code } = await run.close();
      expect(code).toBe(2);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toStartWith(`agent-receipts: policy ${file}:`);
      expect(run.stderr).toMatch(message);
      expect(serverRead()).toBe("");
    });
  }

  test("a missing policy file", async () => {
    const { run } = proxy(join(dir, "nope.toml"), "bad-missing");
    expect((await run.close()).code).toBe(2);
    expect(run.stderr).toBe(`agent-receipts: cannot read the policy ${join(dir, "nope.toml")}: no such file; check --policy\n`);
  });
});

test("an approval directory other users can enter is refused", async () => {
  const open = join(dir, "open-approvals");
  mkdirSync(open, { mode: 0o755 });
  chmodSync(open, 0o755);
  const policy = policyFile('[[rule]]\nname = "p"\naction = "pause"\n');
  const { run } = proxy(policy, "open-dir", { AGENTRECEIPTS_APPROVAL_DIR: open });
  expect((await run.close()).code).toBe(2);
  expect(run.stderr).toContain(`the approval directory ${open} is open to other users (mode 755); run "chmod 700 ${open}"`);
});
