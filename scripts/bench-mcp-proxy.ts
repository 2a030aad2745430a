// MCP proxy benchmark: the same tools/call round trips against a minimal echo
// server, direct, through a bare byte relay (the floor of any proxy: one more
// process hop, no parsing), and through the compiled proxy (recording to a
// live daemon), in one run, alternating blocks so that all see the same load.
//
//   bun scripts/bench-mcp-proxy.ts [--calls 10000] [--mb 50] [--runs 5]
//
// Prints per-call latency (p50, p99) of each and the proxy's difference to
// direct; the time to relay one large response (median of --runs) and the
// ratios to direct; the CPU time each process spent per large response (on a
// machine with few cores the ratios are bounded by how the processes share
// them, not only by the proxy's work); the proxy's peak RSS; and how many
// receipts the daemon wrote. Targets: added p50 <= 0.3 ms, added p99 <= 2 ms,
// large response within 10% of direct, proxy RSS <= 60 MB.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Database } from "bun:sqlite";
import { startDaemon } from "../tests/helpers/daemon.ts";
import { BINARY, tempDir } from "../tests/helpers/fixtures.ts";

const { values } = parseArgs({ options: { calls: { type: "string", default: "10000" }, mb: { type: "string", default: "50" }, runs: { type: "string", default: "5" } } });
const CALLS = Number(values.calls);
const BIG_BYTES = Number(values.mb) * 1_000_000;
const RUNS = Number(values.runs);
const BLOCK = 500;
if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run "npm run build" first (or set AR_TEST_BINARY)`);

// The server answers from a precomputed reply, so that it costs the same in both runs.
const SERVER = `
const big = JSON.stringify("x".repeat(${BIG_BYTES}));
let buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf("\\n")) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    const m = JSON.parse(line);
    if (m.id === undefined) continue;
    const text = m.params?.name === "big" ? big : JSON.stringify(JSON.stringify(m.params?.arguments ?? null));
    process.stdout.write('{"jsonrpc":"2.0","id":' + JSON.stringify(m.id) + ',"result":{"content":[{"type":"text","text":' + text + '}]}}\\n');
  }
});
process.stdin.on("end", () => process.exit(0));
`;
// The floor: Node.js stream piping in both directions, nothing else.
const RELAY = `
import { spawn } from "node:child_process";
const child = spawn(process.argv[2], process.argv.slice(3), { stdio: ["pipe", "pipe", "inherit"] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
child.on("exit", (code) => process.exit(code ?? 1));
`;
const dir = tempDir("ar-bench-mcp-");
const serverFile = join(dir, "echo-server.mjs");
writeFileSync(serverFile, SERVER);
const relayFile = join(dir, "relay.mjs");
writeFileSync(relayFile, RELAY);
const NODE = Bun.which("node") ?? "node";

class Client {
  private pending: Buffer[] = [];
  private waiter: ((line: Buffer) => void) | null = null;
  private lines: Buffer[] = [];
  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    proc.stdout.on("data", (chunk: Buffer) => {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl < 0) break;
        this.pending.push(chunk.subarray(start, nl));
        const line = Buffer.concat(this.pending);
        this.pending = [];
        if (this.waiter !== null) {
          const w = this.waiter;
          this.waiter = null;
          w(line);
        } else this.lines.push(line);
        start = nl + 1;
      }
      if (start < chunk.length) this.pending.push(chunk.subarray(start));
    });
    proc.stderr.on("data", (d: Buffer) => process.stderr.write(d));
  }
  call(id: number, name: string, args: unknown): Promise<Buffer> {
    this.proc.stdin.write(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":${JSON.stringify(name)},"arguments":${JSON.stringify(args)}}}\n`);
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => (this.waiter = resolve));
  }
  async close(): Promise<void> {
    this.proc.stdin.end();
    await new Promise((resolve) => this.proc.once("exit", resolve));
  }
}

const daemon = await startDaemon();
const env = { ...process.env, AGENTRECEIPTS_SOCKET: daemon.socket, XDG_DATA_HOME: join(dir, "data") };
const direct = new Client(spawn(NODE, [serverFile], { env }) as ChildProcessWithoutNullStreams);
const relayed = new Client(spawn(process.execPath, [relayFile, NODE, serverFile], { env }) as ChildProcessWithoutNullStreams);
const proxied = new Client(spawn(BINARY, ["mcp-proxy", "--name", "bench", "--", NODE, serverFile], { env }) as ChildProcessWithoutNullStreams);
const proxyPid = proxied.proc.pid!;

/** CPU time (user + system, all threads) a process used so far, in ms, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** The server a relay or the proxy started (its only child). */
function childOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ")[0]);
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

const lat = { direct: [] as number[], relayed: [] as number[], proxied: [] as number[] };
let id = 0;
const args = { path: "/tmp/some/file.txt", offset: 0, limit: 100 };
// Warm-up: JIT, page cache, the daemon connection.
for (let i = 0; i < 200; i++) {
  await direct.call(++id, "echo", args);
  await relayed.call(++id, "echo", args);
  await proxied.call(++id, "echo", args);
}
for (let done = 0; done < CALLS; done += BLOCK) {
  for (const [client, list] of [[direct, lat.direct], [relayed, lat.relayed], [proxied, lat.proxied]] as const) {
    for (let i = 0; i < BLOCK && done + i < CALLS; i++) {
      const t0 = performance.now();
      await client.call(++id, "echo", { ...args, offset: i });
      list.push(performance.now() - t0);
    }
  }
}
const rssAfterCalls = peakRssMb(proxyPid);
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

const big = { direct: [] as number[], relayed: [] as number[], proxied: [] as number[] };
const cpuPids = { server: direct.proc.pid!, relay: relayed.proc.pid!, relayServer: childOf(relayed.proc.pid!), proxy: proxyPid, proxyServer: childOf(proxyPid) };
const cpuBefore = Object.fromEntries(Object.entries(cpuPids).map(([k, pid]) => [k, cpuMs(pid)])) as Record<keyof typeof cpuPids, number>;
for (let r = 0; r < RUNS; r++) {
  for (const [client, list] of [[direct, big.direct], [relayed, big.relayed], [proxied, big.proxied]] as const) {
    const t0 = performance.now();
    const line = await client.call(++id, "big", {});
    list.push(performance.now() - t0);
    if (line.length < BIG_BYTES) throw new Error(`short big response: ${line.length}`);
  }
}
const rss = peakRssMb(proxyPid);
const cpu = Object.fromEntries(Object.entries(cpuPids).map(([k, pid]) => [k, (cpuMs(pid) - cpuBefore[k as keyof typeof cpuPids]) / RUNS])) as Record<keyof typeof cpuPids, number>;
await direct.close();
await relayed.close();
await proxied.close();
await daemon.stop();
const db = new Database(daemon.db, { readonly: true });
const receipts = (db.query("SELECT count(*) AS n FROM receipts WHERE json_extract(receipt_json, '$.credentialSubject.action.type') LIKE 'mcp.bench.%'").get() as { n: number }).n;
db.close();

const p50d = q(lat.direct, 0.5), p50p = q(lat.proxied, 0.5), p99d = q(lat.direct, 0.99), p99p = q(lat.proxied, 0.99);
const p50r = q(lat.relayed, 0.5), p99r = q(lat.relayed, 0.99);
const bd = q(big.direct, 0.5), br = q(big.relayed, 0.5), bp = q(big.proxied, 0.5);
const f = (n: number) => n.toFixed(3);
const checks = [
  { what: `added latency p50 ${f(p50p - p50d)} ms`, ok: p50p - p50d <= 0.3, target: "<= 0.3 ms" },
  { what: `added latency p99 ${f(p99p - p99d)} ms`, ok: p99p - p99d <= 2, target: "<= 2 ms" },
  { what: `${values.mb} MB response ${(bp / bd).toFixed(3)}x direct`, ok: bp / bd <= 1.1, target: "<= 1.10x" },
  { what: `proxy peak RSS ${rss.toFixed(1)} MB`, ok: rss <= 60, target: "<= 60 MB" },
];
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
console.log(`mcp-proxy benchmark (${process.platform}/${process.arch}, ${navigator.hardwareConcurrency} CPUs, load average ${load}), ${CALLS} tools/call round trips each, blocks of ${BLOCK} alternating`);
console.log(`round trip ms        p50      p99`);
console.log(`  direct          ${f(p50d)}    ${f(p99d)}`);
console.log(`  bare relay      ${f(p50r)}    ${f(p99r)}   (added ${f(p50r - p50d)} / ${f(p99r - p99d)})`);
console.log(`  proxy           ${f(p50p)}    ${f(p99p)}   (added ${f(p50p - p50d)} / ${f(p99p - p99d)})`);
console.log(`${values.mb} MB response, median of ${RUNS}: direct ${bd.toFixed(1)} ms, bare relay ${br.toFixed(1)} ms (${(br / bd).toFixed(3)}x), proxy ${bp.toFixed(1)} ms (${(bp / bd).toFixed(3)}x)`);
const ms = (n: number) => `${n.toFixed(0)} ms`;
console.log(`CPU per ${values.mb} MB response: server ${ms(cpu.server)} (direct), bare relay ${ms(cpu.relay)} (its server ${ms(cpu.relayServer)}), proxy ${ms(cpu.proxy)} (its server ${ms(cpu.proxyServer)}); ${navigator.hardwareConcurrency} CPUs shared by client, server, relay or proxy, and daemon`);
console.log(`proxy peak RSS ${rss.toFixed(1)} MB (${rssAfterCalls.toFixed(1)} MB before the large responses); receipts written for the proxied calls: ${receipts} (2 per call: pending and final)`);
for (const c of checks) console.log(`${c.ok ? "ok  " : "MISS"} ${c.what} (target ${c.target})`);
process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
