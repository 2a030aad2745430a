// The relay, through the compiled binary and the scripted server: bytes
// unchanged both ways (the server's own record of what it read and wrote is
// compared with what the client sent and got), a 64 MiB line each way,
// server-initiated requests, exit statuses, the shutdown ladder, signals, the
// environment and working directory, stderr, and no TCP listener.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { BIND_AND_HANG, expectedHash } from "../daemon/support.ts";
import { byCorrelation, isMsg, killProxies, NODE, ProxyRun, receiptsOf, SCRIPTED, sessionReceipts, subject, textOf, type Json, type Msg } from "./support.ts";

let daemon: DaemonHandle;
beforeAll(async () => {
  daemon = await startDaemon();
});
afterAll(async () => {
  killProxies();
  await daemon.stop("SIGKILL");
});

const env = (extra: Record<string, string> = {}) => ({ AGENTRECEIPTS_SOCKET: daemon.socket, ...extra });

describe("bytes", () => {
  test("byte for byte both ways: odd formatting, CRLF, non-JSON lines and a line split across writes arrive unchanged; stdout holds only the server's bytes", async () => {
    const tee = join(tempDir("ar-proxy-tee-"), "io");
    const run = new ProxyRun({ proxyArgs: ["--session-id", "bytes"], env: env({ SCRIPTED_TEE: tee }) });
    const sent = [
      '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n',
      "not json at all\n",
      '{ "jsonrpc" : "2.0" , "id" : 1.0 , "method" : "tools/call" , "params" : { "name" : "echo" , "arguments" : { "z" : "\\u00e9\\/", "a" : [ 1e2 ] } } }\r\n',
      '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"noise","arguments":{}}}\n',
    ];
    run.write(sent[0]!);
    await run.response(0);
    run.write(sent[1]!);
    // One message in three writes.
    run.write(sent[2]!.slice(0, 20));
    await Bun.sleep(30);
    run.write(sent[2]!.slice(20, 60));
    await Bun.sleep(30);
    run.write(sent[2]!.slice(60));
    await run.response(1);
    run.write(sent[3]!);
    await run.response(2);
    expect((await run.close()).code).toBe(0);
    expect(readFileSync(`${tee}.in`, "utf8")).toBe(sent.join(""));
    expect(run.stdout.equals(readFileSync(`${tee}.out`))).toBe(true);
    expect(run.outputLines).toContain("this line is not JSON");
    // The server's stderr reaches ours.
    expect(run.stderr).toContain("scripted: ignoring a non-JSON line of 15 bytes");
    // Recorded with the arguments as the client sent them (the daemon hashes their RFC 8785 form).
    const echo = byCorrelation(sessionReceipts(daemon.db, "bytes")).get("bytes/1/1")!;
    expect(subject(echo[0]!).action.parameters_hash).toBe(expectedHash({ z: "é/", a: [100] }));
  });

  test("a 64 MiB line each way, split across many reads, relayed intact; the receipts carry stand-ins with the lines' SHA-256", async () => {
    const session = "big-lines";
    const run = new ProxyRun({ proxyArgs: ["--session-id", session], env: env() });
    await run.initialize();
    const size = 64 * 1024 * 1024;
    const request = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { blob: "y".repeat(size) } } });
    for (let i = 0; i < request.length; i += 1 << 20) run.write(request.slice(i, i + (1 << 20)));
    run.write("\n");
    const response = await run.response(1, 60_000);
    expect(textOf(response)).toBe(JSON.stringify({ blob: "y".repeat(size) }));
    const responseLine = run.outputLines.find((l) => l.length > size)!;
    await run.close();
    const [pending, final] = sessionReceipts(daemon.db, session);
    const standIn = (line: string) => ({
      omitted: "over the 1 MiB frame limit", message_bytes: Buffer.byteLength(line), message_sha256: `sha256:${createHash("sha256").update(line).digest("hex")}`,
    });
    expect(subject(pending!).action.parameters_hash).toBe(expectedHash(standIn(request)));
    expect(subject(final!).action.parameters_hash).toBe(expectedHash(standIn(request)));
    expect(subject(final!).outcome).toEqual({ status: "success", response_hash: expectedHash(standIn(responseLine)) });
  }, 60_000);

  test("64 MiB lines of millions of nested brackets or of tiny numbers, split across many reads: relayed intact, and the proxy stays small", async () => {
    const mib = Buffer.alloc(1 << 20);
    const lines: Array<[string, (i: number) => Buffer]> = [
      ["nested", () => mib.fill("[")],
      ["nested objects", () => mib.fill('{"a":')],
      // [[[1,1,...],...],...]: a value in every other byte, 512 arrays of 1024 in each MiB
      ["numbers", (i) => Buffer.from(`${i === 0 ? "[" : ","}[${Array(512).fill(`[${Array(1024).fill(1).join(",")}]`).join(",")}]`)],
    ];
    for (const [what, chunk] of lines) {
      const run = new ProxyRun({ server: ["cat"], proxyArgs: ["--session-id", `memory-${what}`], env: env() });
      let peak = 0;
      const sample = setInterval(() => {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${run.proc.pid}/status`, "utf8"));
        if (m !== null) peak = Math.max(peak, Number(m[1]) * 1024);
      }, 20);
      const hash = createHash("sha256");
      for (let i = 0; i < 64; i++) {
        const c = chunk(i);
        hash.update(c);
        if (!run.proc.stdin.write(Buffer.from(c))) await new Promise((r) => run.proc.stdin.once("drain", r));
      }
      const end = what === "numbers" ? "]\n" : "\n";
      run.write(end);
      hash.update(end);
      expect((await run.close()).code).toBe(0);
      clearInterval(sample);
      expect(createHash("sha256").update(run.stdout).digest("hex")).toBe(hash.digest("hex"));
      expect(peak).toBeLessThan(120 * 1024 * 1024);
    }
  }, 60_000);

  test("server-initiated requests (sampling, elicitation, roots) and the client's answers pass through, also when their ids equal the client's own", async () => {
    const session = "server-requests";
    const run = new ProxyRun({ proxyArgs: ["--session-id", session], env: env() });
    await run.initialize();
    const methods = { sample: "sampling/createMessage", elicit: "elicitation/create", roots: "roots/list" } as const;
    let n = 0;
    const results = new Map<string, Json>();
    for (const [tool, method] of Object.entries(methods)) {
      // The client's request id is the id the server will use for its own request.
      const id = `srv-${++n}`;
      run.send({ jsonrpc: "2.0", id, method: "tools/call", params: { name: tool, arguments: {} } });
      const asked = await run.next((m) => isMsg(m) && m.method === method);
      expect((asked as Msg).id).toBe(id);
      run.send({ jsonrpc: "2.0", id, result: { answer: tool } });
      const done = await run.next((m) => isMsg(m) && m.id === id && m.result !== undefined && m.method === undefined);
      expect(textOf(done as Msg)).toContain(JSON.stringify({ answer: tool }));
      results.set(id, (done as Msg).result!);
    }
    await run.close();
    const calls = byCorrelation(sessionReceipts(daemon.db, session));
    expect(calls.size).toBe(3);
    for (const [i, id] of ["srv-1", "srv-2", "srv-3"].entries()) {
      const rs = calls.get(`${session}/${i + 1}/"${id}"`)!;
      expect(rs.map((r) => subject(r).outcome.status)).toEqual(["pending", "success"]);
      // The final receipt hashes the tool's result, not the client's answer to the server's request of the same id.
      expect(subject(rs[1]!).outcome.response_hash).toBe(expectedHash(results.get(id)));
    }
  });
});

describe("process", () => {
  test("the server's environment and working directory are ours", async () => {
    const cwd = tempDir("ar-proxy-cwd-");
    const run = new ProxyRun({ env: env({ MY_SETTING: "forty two" }), cwd });
    await run.initialize();
    const r = JSON.parse(textOf(await run.call(1, "env", { name: "MY_SETTING" }))) as { value: string; cwd: string };
    expect(r).toEqual({ value: "forty two", cwd });
    await run.close();
  });

  test("exit status: the server's code on client EOF", async () => {
    const run = new ProxyRun({ env: env({ SCRIPTED_EXIT_CODE: "5" }) });
    await run.initialize();
    expect(await run.close()).toEqual({ code: 5, signal: null });
  });

  test("client EOF with a server that keeps running: SIGTERM after the grace period (exit 143), SIGKILL after another when it ignores that (exit 137)", async () => {
    for (const [extra, status] of [[{}, 143], [{ SCRIPTED_IGNORE_SIGTERM: "1" }, 137]] as const) {
      const run = new ProxyRun({ proxyArgs: ["--grace-ms", "150"], env: env({ SCRIPTED_IGNORE_EOF: "1", ...extra }) });
      await run.initialize();
      const t0 = performance.now();
      expect((await run.close()).code).toBe(status);
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(status === 143 ? 140 : 290);
      expect(took).toBeLessThan(5000);
    }
  });

  test("SIGTERM, SIGINT and SIGHUP to the proxy reach the server; the open call is recorded as shut down; 128+signal", async () => {
    for (const [sig, status] of [["SIGTERM", 143], ["SIGINT", 130], ["SIGHUP", 129]] as const) {
      const session = `signal-${sig}`;
      const run = new ProxyRun({ proxyArgs: ["--session-id", session], env: env() });
      await run.initialize();
      run.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "never", arguments: {} } });
      await receiptsOf(daemon.db, session, 1);
      run.proc.kill(sig);
      expect((await run.exited).code).toBe(status);
      const rs = sessionReceipts(daemon.db, session);
      expect(rs.map((r) => subject(r).outcome.status)).toEqual(["pending", "failure"]);
      expect(subject(rs[1]!).outcome.error).toBe(`the proxy was stopped (${sig}) before the server answered (the server was killed by ${sig})`);
    }
  });

  test("a second signal while the proxy waits at exit for the daemon's confirmation does not kill it: it still exits with the server's status", async () => {
    // A socket that takes connections and never confirms: the proxy's last wait lasts its full second.
    const socket = join(tempDir("ar-proxy-late-signal-"), "events.sock");
    const binder = spawn(process.execPath, [BIND_AND_HANG, socket], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve) => binder.stdout.once("data", () => resolve()));
      const run = new ProxyRun({ proxyArgs: ["--session-id", "late-signal"], env: env({ AGENTRECEIPTS_SOCKET: socket }) });
      await run.initialize();
      await run.call(1, "echo", { i: 1 });
      run.proc.kill("SIGTERM");
      await Bun.sleep(400);
      expect(run.proc.exitCode).toBeNull();
      run.proc.kill("SIGTERM");
      expect(await run.exited).toEqual({ code: 143, signal: null });
      expect(run.stderr).toContain("the daemon did not confirm within 1000 ms");
    } finally {
      binder.kill("SIGKILL");
    }
  });

  test("SIGTERM to the proxy while the server ignores SIGTERM (and the client keeps its end open): SIGKILL after twice the grace period, the open call recorded, 137", async () => {
    const session = "signal-ignored";
    const run = new ProxyRun({ proxyArgs: ["--session-id", session, "--grace-ms", "150"], env: env({ SCRIPTED_IGNORE_SIGTERM: "1", SCRIPTED_IGNORE_EOF: "1" }) });
    await run.initialize();
    run.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "never", arguments: {} } });
    await receiptsOf(daemon.db, session, 1);
    const t0 = performance.now();
    run.proc.kill("SIGTERM");
    const ended = await Promise.race([run.exited, Bun.sleep(5000).then(() => "still running")]);
    expect(ended).toEqual({ code: 137, signal: null });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(run.stderr).toContain("scripted: ignoring SIGTERM");
    const rs = sessionReceipts(daemon.db, session);
    expect(rs.map((r) => subject(r).outcome.status)).toEqual(["pending", "failure"]);
    expect(subject(rs[1]!).outcome.error).toBe("the proxy was stopped (SIGTERM) before the server answered (the server was killed by SIGKILL)");
  });

  test("a server that cannot start: one line on stderr, nothing on stdout, 127 when not found, 126 when not executable", async () => {
    const dir = tempDir("ar-proxy-start-");
    const notExec = join(dir, "server.sh");
    writeFileSync(notExec, "#!/bin/sh\n");
    chmodSync(notExec, 0o644);
    const cases: Array<[string[], number, RegExp]> = [
      [["no-such-mcp-server-xyz"], 127, /^agent-receipts: cannot start the MCP server "no-such-mcp-server-xyz": not found on PATH \(ENOENT\)/],
      [[join(dir, "missing")], 127, /not found \(ENOENT\)/],
      [[notExec], 126, /not an executable program/],
      [[dir], 126, /not an executable program/],
    ];
    for (const [server, status, message] of cases) {
      const run = new ProxyRun({ server, env: env() });
      const { code } = await run.close();
      expect(code).toBe(status);
      expect(run.stdout.length).toBe(0);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toMatch(message);
    }
  });
});

/** Inodes of the TCP and UDP sockets of the whole machine (IPv4 and IPv6). */
function inetSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const table of ["tcp", "tcp6", "udp", "udp6"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9) inodes.add(cols[9]!);
    }
  }
  return inodes;
}

function socketInodesOf(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      return m === null ? [] : [m[1]!];
    } catch {
      return [];
    }
  });
}

test("two proxies at once, each with an approval socket: neither opens any TCP or UDP socket, so they cannot collide on a port", async () => {
  const dir = tempDir("ar-proxy-ports-");
  const policy = join(dir, "policy.toml");
  writeFileSync(policy, '[[rule]]\nname = "ask"\ntool = "never-called"\naction = "pause"\n');
  const runs = [0, 1].map(() => new ProxyRun({ server: [NODE, SCRIPTED], proxyArgs: ["--policy", policy], env: env({ AGENTRECEIPTS_APPROVAL_DIR: join(dir, "approvals") }) }));
  for (const run of runs) {
    await run.initialize();
    await run.call(1, "echo");
  }
  const inet = inetSocketInodes();
  for (const run of runs) {
    const mine = socketInodesOf(run.proc.pid!);
    expect(mine.length).toBeGreaterThan(0); // the daemon connection, the approval socket, the pipes' peers
    expect(mine.filter((i) => inet.has(i))).toEqual([]);
  }
  expect(readdirSync(join(dir, "approvals")).filter((n) => n.endsWith(".sock"))).toHaveLength(2);
  for (const run of runs) expect((await run.close()).code).toBe(0);
  // Each proxy removes its approval socket on exit.
  expect(readdirSync(join(dir, "approvals"))).toEqual([]);
});
