// Benchmark of the agent-side cost of one emit() (the compiled daemon running
// as a separate process), beside the in-process alternative an agent would pay
// per event without a daemon (canonicalize + hash + sign + one durable SQLite
// insert), measured in the same run; then emit() with the daemon down.
//
//   bun scripts/bench-emitter.ts [--events 5000] [--paced 1000] [--rate 200] [--warmup 300]
//
// Two ways of calling, each measured for both sides:
// - tight loop: back-to-back calls, everything warm (the classic microbenchmark);
// - paced at --rate calls/s: an agent that does other work between tool calls.
//   After each pause the daemon is idle, so a write wakes it; where the daemon
//   has to share the agent's CPU, the kernel runs it first and the agent waits.
//   With `taskset` available the paced run is repeated with the daemon pinned
//   to a CPU of its own, to separate that scheduling cost from the emitter's.
// Targets: emitter p50 <= 1/10 of the in-process p50, emitter p99 < 1 ms;
// daemon down, p99 < the 25 ms connect bound.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_CONNECT_TIMEOUT_MS, Emitter, type EmitEvent } from "../src/emitter/index.ts";
import type { Frame } from "../src/protocol/frame-schema.ts";
import { buildEventReceipt, DEFAULT_ISSUER_ID, DEFAULT_VERIFICATION_METHOD, type ChainPosition } from "../src/daemon/pipeline/builder.ts";
import { generateKeyPair, parsePrivateKey } from "../src/receipt/keys.ts";
import { keySourceOf } from "../src/receipt/key-source.ts";
import { hashReceipt, signReceipt } from "../src/receipt/seal.ts";
import { rowOf } from "../src/store/row.ts";
import { StoreWriter } from "../src/store/writer.ts";
import { startDaemon } from "../tests/helpers/daemon.ts";
import { BINARY, TEST_PEER, tempDir } from "../tests/helpers/fixtures.ts";

const RATIO_TARGET = 10;
const P99_TARGET_US = 1000;

const { values: flags } = parseArgs({
  options: {
    events: { type: "string", default: "5000" },
    paced: { type: "string", default: "1000" },
    rate: { type: "string", default: "200" },
    warmup: { type: "string", default: "300" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (flags.help) {
  console.log("usage: bun scripts/bench-emitter.ts [--events 5000] [--paced 1000] [--rate 200] [--warmup 300]");
  process.exit(0);
}
const events = Number(flags.events);
const paced = Number(flags.paced);
const rate = Number(flags.rate);
const warmup = Number(flags.warmup);
if (![events, paced].every((n) => Number.isSafeInteger(n) && n >= 100) || !Number.isSafeInteger(warmup) || warmup < 0 || !(rate > 0)) {
  console.error("--events and --paced must be integers >= 100, --warmup an integer >= 0, --rate a positive number");
  process.exit(2);
}
if (!existsSync(BINARY)) {
  console.error(`${BINARY} is missing: run "npm run build" first`);
  process.exit(2);
}

interface Stats {
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

/** Microsecond percentiles of per-call durations. */
function stats(samples: number[]): Stats {
  const us = samples.map((ms) => ms * 1000).sort((a, b) => a - b);
  const at = (q: number) => us[Math.min(us.length - 1, Math.floor(q * us.length))]!;
  return { p50: at(0.5), p99: at(0.99), mean: us.reduce((a, b) => a + b, 0) / us.length, max: us[us.length - 1]! };
}

/** A typical tool call: a file read with a small input and a ~1 KB output. */
function event(i: number): EmitEvent {
  return {
    tool: { name: "read_file", server: "fs" },
    decision: "allowed",
    input: { path: `/repo/src/module-${i}.ts`, encoding: "utf8" },
    output: { content: "x".repeat(1000), bytes: 1000, line_count: 40 },
    correlationId: `call-${i}`,
  };
}

type Call = (i: number) => Promise<unknown> | unknown;

/** Times each call alone (warm-up first); with `perSecond`, call i starts no earlier than i/perSecond s after the first. */
async function measure(n: number, call: Call, perSecond?: number): Promise<Stats> {
  const run = async (count: number, offset: number) => {
    const samples: number[] = new Array<number>(count);
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      if (perSecond !== undefined) {
        const wait = start + (i * 1000) / perSecond - performance.now();
        if (wait > 0) await Bun.sleep(wait);
      }
      const t0 = performance.now();
      await call(offset + i);
      samples[i] = performance.now() - t0;
    }
    return samples;
  };
  await run(warmup, 1_000_000_000);
  return stats(await run(n, 0));
}

/** The in-process alternative: build, hash, sign and commit one row per event (synchronous=FULL), chained. */
function inProcessCall(): { call: Call; close(): void } {
  const store = new StoreWriter(join(tempDir("ar-bench-inproc-"), "receipts.db"));
  const privateKey = parsePrivateKey(generateKeyPair().privateKeyPem);
  const config = { issuerId: DEFAULT_ISSUER_ID };
  let pos: ChainPosition = { chainId: "bench", sequence: 1, previousHash: null };
  const call = (i: number) => {
    const e = event(i);
    const frame: Frame = {
      v: "1", ts_emit: new Date().toISOString(), session_id: "bench", channel: "sdk", tool: e.tool, decision: e.decision,
      input: e.input as Frame["input"], output: e.output as Frame["output"], correlation_id: e.correlationId,
    };
    const receipt = buildEventReceipt(frame, TEST_PEER, pos, new Date().toISOString(), config);
    const hashed = hashReceipt(receipt);
    const json = signReceipt(hashed, keySourceOf(privateKey), DEFAULT_VERIFICATION_METHOD);
    store.insertBatch([rowOf(receipt, json, hashed.hash)]);
    pos = { chainId: pos.chainId, sequence: pos.sequence + 1, previousHash: hashed.hash };
  };
  return { call, close: () => store.close() };
}

/** Pins every thread of `pid` to `cpuList` with taskset; false when that is not possible here. */
function pin(pid: number, cpuList: string): boolean {
  const r = spawnSync("taskset", ["-a", "-p", "-c", cpuList, String(pid)], { stdio: "ignore" });
  return r.status === 0;
}

interface Row {
  name: string;
  stats: Stats;
}
const rows: Row[] = [];
const checks: Array<[string, boolean]> = [];
const record = (name: string, s: Stats) => (rows.push({ name, stats: s }), s);

const ncpu = availableParallelism();
console.log(`bench-emitter: ${events} tight / ${paced} paced events at ${rate}/s (+${warmup} warm-up each), bun ${Bun.version}, ${ncpu} cpus (${cpus()[0]?.model ?? "?"}), load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);

const daemon = await startDaemon();
const em = new Emitter({ channel: "sdk", socketPath: daemon.socket });
let pinned: Stats | null = null;
let emitTight: Stats;
let emitPaced: Stats;
try {
  emitTight = record("emit(), daemon up, tight loop", await measure(events, (i) => em.emit(event(i))));
  emitPaced = record(`emit(), daemon up, ${rate}/s`, await measure(paced, (i) => em.emit(event(i)), rate));
  const all = `0-${ncpu - 1}`;
  if (ncpu >= 2 && pin(daemon.proc.pid!, String(ncpu - 1)) && pin(process.pid, `0-${ncpu - 2}`)) {
    pinned = record(`emit(), ${rate}/s, daemon on own cpu`, await measure(paced, (i) => em.emit(event(i)), rate));
    pin(process.pid, all);
    pin(daemon.proc.pid!, all);
  }
  if (!(await em.close({ confirm: true, timeoutMs: 60_000 }))) throw new Error("the daemon did not confirm the benchmark's events");
} finally {
  await daemon.stop();
}
const dropped = em.dropped;

const local = inProcessCall();
const localTight = record("in-process, tight loop", await measure(events, local.call));
const localPaced = record(`in-process, ${rate}/s`, await measure(paced, local.call, rate));
local.close();

const down = new Emitter({ channel: "sdk", socketPath: daemon.socket });
const downStats = record("emit(), daemon down", await measure(Math.min(events, 2000), (i) => down.emit(event(i))));
await down.close();

console.log(`\n${"per call (µs)".padEnd(36)}${["p50", "p99", "mean", "max"].map((h) => h.padStart(9)).join("")}`);
for (const r of rows) console.log(`${r.name.padEnd(36)}${[r.stats.p50, r.stats.p99, r.stats.mean, r.stats.max].map((v) => v.toFixed(1).padStart(9)).join("")}`);

const versus = (what: string, e: Stats, l: Stats) => {
  const ratio = l.p50 / e.p50;
  checks.push([`${what}: emitter p50 at most 1/${RATIO_TARGET} of in-process p50 (${e.p50.toFixed(1)} vs ${l.p50.toFixed(1)} µs, ${ratio.toFixed(1)}x)`, ratio >= RATIO_TARGET]);
  checks.push([`${what}: emitter p99 under ${P99_TARGET_US} µs (${e.p99.toFixed(1)} µs)`, e.p99 < P99_TARGET_US]);
};
versus("tight loop", emitTight, localTight);
versus(`paced ${rate}/s`, emitPaced, localPaced);
if (pinned !== null) versus(`paced ${rate}/s, daemon on its own cpu`, pinned, localPaced);
checks.push([`daemon down: p99 under the ${DEFAULT_CONNECT_TIMEOUT_MS} ms connect bound (${(downStats.p99 / 1000).toFixed(3)} ms)`, downStats.p99 < DEFAULT_CONNECT_TIMEOUT_MS * 1000]);
checks.push([`no event dropped with the daemon up (${dropped})`, dropped === 0]);
console.log("");
for (const [what, ok] of checks) console.log(`${ok ? "PASS" : "FAIL"}  ${what}`);
process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
