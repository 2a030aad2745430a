// Benchmark of the agent-side cost of one emit() (the compiled daemon running
// as a separate process), beside the in-process alternative an agent would pay
// per event without a daemon (canonicalize + hash + sign + one durable SQLite
// insert), measured in the same run; then emit() with the daemon down.
//
//   bun scripts/bench-emitter.ts [--events 5000] [--warmup 500]
//
// Targets: emitter p50 <= 1/10 of the in-process p50, emitter p99 < 1 ms;
// daemon down, p99 < the 25 ms connect bound.
import { existsSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_CONNECT_TIMEOUT_MS, Emitter, type EmitEvent } from "../src/emitter/index.ts";
import type { Frame } from "../src/protocol/frame-schema.ts";
import { buildEventReceipt, DEFAULT_ISSUER_ID, DEFAULT_VERIFICATION_METHOD, type ChainPosition } from "../src/receipt/builder.ts";
import { generateKeyPair, parsePrivateKey } from "../src/receipt/keys.ts";
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
    warmup: { type: "string", default: "500" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (flags.help) {
  console.log("usage: bun scripts/bench-emitter.ts [--events 5000] [--warmup 500]");
  process.exit(0);
}
const events = Number(flags.events);
const warmup = Number(flags.warmup);
if (!Number.isSafeInteger(events) || events < 100 || !Number.isSafeInteger(warmup) || warmup < 0) {
  console.error("--events must be an integer >= 100 and --warmup an integer >= 0");
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

async function timeEach(n: number, call: (i: number) => Promise<unknown> | unknown): Promise<number[]> {
  const samples: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call(i);
    samples[i] = performance.now() - t0;
  }
  return samples;
}

async function emitterUp(socket: string): Promise<{ stats: Stats; dropped: number }> {
  const em = new Emitter({ channel: "sdk", socketPath: socket });
  await timeEach(warmup, (i) => em.emit(event(-i - 1)));
  const samples = await timeEach(events, (i) => em.emit(event(i)));
  const confirmed = await em.close({ confirm: true, timeoutMs: 30_000 });
  if (!confirmed) throw new Error("the daemon did not confirm the benchmark's events");
  return { stats: stats(samples), dropped: em.dropped };
}

/** What an agent pays per event when it builds, hashes, signs and durably stores receipts itself. */
async function inProcess(): Promise<Stats> {
  const dir = tempDir("ar-bench-inproc-");
  const store = new StoreWriter(join(dir, "receipts.db"));
  const privateKey = parsePrivateKey(generateKeyPair().privateKeyPem);
  const config = { issuerId: DEFAULT_ISSUER_ID };
  let pos: ChainPosition = { chainId: "bench", sequence: 1, previousHash: null };
  const once = (i: number) => {
    const e = event(i);
    const frame: Frame = {
      v: "1", ts_emit: new Date().toISOString(), session_id: "bench", channel: "sdk", tool: e.tool, decision: e.decision,
      input: e.input as Frame["input"], output: e.output as Frame["output"], correlation_id: e.correlationId,
    };
    const receipt = buildEventReceipt(frame, TEST_PEER, pos, new Date().toISOString(), config);
    const hashed = hashReceipt(receipt);
    const json = signReceipt(hashed, privateKey, DEFAULT_VERIFICATION_METHOD);
    store.insertBatch([rowOf(receipt, json, hashed.hash)]);
    pos = { chainId: pos.chainId, sequence: pos.sequence + 1, previousHash: hashed.hash };
  };
  await timeEach(warmup, (i) => once(-i - 1));
  const samples = await timeEach(events, once);
  store.close();
  return stats(samples);
}

async function emitterDown(socket: string): Promise<{ stats: Stats; dropped: number }> {
  const em = new Emitter({ channel: "sdk", socketPath: socket });
  const n = Math.min(events, 2000);
  const samples = await timeEach(n, (i) => em.emit(event(i)));
  const dropped = em.dropped;
  await em.close();
  if (dropped !== n) throw new Error(`expected every event dropped with the daemon down, got ${dropped} of ${n}`);
  return { stats: stats(samples), dropped };
}

const fmt = (us: number) => us.toFixed(1).padStart(9);
const row = (name: string, s: Stats) => console.log(`${name.padEnd(34)}${fmt(s.p50)}${fmt(s.p99)}${fmt(s.mean)}${fmt(s.max)}`);

console.log(`bench-emitter: ${events} events (+${warmup} warm-up), bun ${Bun.version}, ${availableParallelism()} cpus (${cpus()[0]?.model ?? "?"}), load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
const daemon = await startDaemon();
let up: Awaited<ReturnType<typeof emitterUp>>;
try {
  up = await emitterUp(daemon.socket);
} finally {
  await daemon.stop();
}
const local = await inProcess();
const down = await emitterDown(daemon.socket);

console.log(`\n${"per event (µs)".padEnd(34)}${"p50".padStart(9)}${"p99".padStart(9)}${"mean".padStart(9)}${"max".padStart(9)}`);
row("emit(), daemon up", up.stats);
row("in-process build+hash+sign+insert", local);
row("emit(), daemon down", down.stats);

const ratio = local.p50 / up.stats.p50;
const checks: Array<[string, boolean]> = [
  [`emitter p50 at most 1/${RATIO_TARGET} of in-process p50 (ratio ${ratio.toFixed(1)}x)`, ratio >= RATIO_TARGET],
  [`emitter p99 under ${P99_TARGET_US} µs (${up.stats.p99.toFixed(1)} µs)`, up.stats.p99 < P99_TARGET_US],
  [`daemon down: p99 under the ${DEFAULT_CONNECT_TIMEOUT_MS} ms connect bound (${(down.stats.p99 / 1000).toFixed(3)} ms)`, down.stats.p99 < DEFAULT_CONNECT_TIMEOUT_MS * 1000],
  [`no event dropped with the daemon up (${up.dropped})`, up.dropped === 0],
];
console.log("");
for (const [what, ok] of checks) console.log(`${ok ? "PASS" : "FAIL"}  ${what}`);
process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
