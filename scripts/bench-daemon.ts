// Daemon throughput benchmark: starts the compiled daemon, drives it from 4 and
// 16 emitter processes over the real socket, and reports durable receipts/s
// (counted once committed, by polling the database), send->commit latency,
// daemon RSS, and the in-process floor measured in the same run.
//
//   bun scripts/bench-daemon.ts [--events 40000] [--long 1000000]
import { Database } from "bun:sqlite";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ChainWriter, type ChainEvent } from "../src/daemon/pipeline/chain-writer.ts";
import { generateKeyPair, parsePrivateKey } from "../src/receipt/keys.ts";
import { keySourceOf } from "../src/receipt/key-source.ts";
import { StoreWriter } from "../src/store/writer.ts";

const ROOT = join(import.meta.dir, "..");
const BINARY = join(ROOT, "dist", "agent-receipts");
const { values } = parseArgs({
  options: { events: { type: "string", default: "40000" }, long: { type: "string" }, rate: { type: "string", default: "5000" } },
});
const EVENTS = Number(values.events);
/** Offered load (frames/s, all emitters together) for the latency run. */
const RATE = Number(values.rate);
const now = () => performance.timeOrigin + performance.now();

function rssMb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function startDaemon(dir: string) {
  const socket = join(dir, "events.sock");
  const db = join(dir, "receipts.db");
  const proc = spawn(BINARY, ["daemon", "--socket", socket, "--db", db, "--key", join(dir, "signing.key"), "--unsafe-socket-path", "--log-format", "json", "--chain-id", "bench"], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d));
  while (!err.includes('"event":"listening"')) {
    if (proc.exitCode !== null) throw new Error(`daemon failed to start:\n${err}`);
    await Bun.sleep(10);
  }
  return { proc, socket, db, stderr: () => err };
}

interface RunResult {
  emitters: number;
  events: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  rssMb: number;
  rssSamples: number[];
}

/** Sends `events` frames from `emitters` processes and waits until all are committed. */
async function drive(emitters: number, events: number, sampleEvery = 50, rssEvery = 0, rate = 0): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "ar-bench-daemon-"));
  const daemon = await startDaemon(dir);
  const reader = new Database(daemon.db, { readonly: true });
  const rowsAfter = reader.query<{ rowid: number; correlation: string | null }, [number]>(
    "SELECT rowid, json_extract(receipt_json, '$.credentialSubject.correlation_id') AS correlation FROM receipts WHERE rowid > ? ORDER BY rowid",
  );
  const per = Math.ceil(events / emitters);
  const started = now();
  const senders = Array.from({ length: emitters }, (_, i) => {
    const p = spawn(process.execPath, [join(import.meta.dir, "bench", "sender.ts"), daemon.socket, String(per), `e${i}`, String(sampleEvery), String(rate / emitters)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout!.on("data", (d: Buffer) => (out += d));
    return new Promise<{ sent: number; sampled: Array<[string, number]> }>((resolve, reject) =>
      p.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`sender exited ${code}`)))),
    );
  });
  const committedAt = new Map<string, number>();
  const rssSamples: number[] = [];
  let lastRowid = 0;
  let seen = 0;
  const total = per * emitters;
  let nextRss = rssEvery;
  while (seen < total) {
    await Bun.sleep(2);
    const t = now();
    for (const row of rowsAfter.all(lastRowid)) {
      lastRowid = row.rowid;
      seen++;
      if (row.correlation !== null) committedAt.set(row.correlation, t);
    }
    if (rssEvery > 0 && seen >= nextRss) {
      rssSamples.push(rssMb(daemon.proc.pid!, "VmRSS"));
      process.stderr.write(`  ${seen} receipts committed, daemon RSS ${rssSamples.at(-1)!.toFixed(1)} MB\n`);
      nextRss += rssEvery;
    }
  }
  const seconds = (now() - started) / 1000;
  const sent = await Promise.all(senders);
  const rss = rssMb(daemon.proc.pid!, "VmHWM");
  const latencies = sent.flatMap((s) => s.sampled.map(([id, at]) => committedAt.get(id)! - at)).filter(Number.isFinite).sort((a, b) => a - b);
  reader.close();
  daemon.proc.kill("SIGTERM");
  await new Promise((r) => daemon.proc.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
  return { emitters, events: total, seconds, perSecond: total / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), rssMb: rss, rssSamples };
}

/** The same build + canonicalize + hash + sign + batched insert code, in-process, no socket. */
function inProcessFloor(events: number, batch = 256): number {
  const dir = mkdtempSync(join(tmpdir(), "ar-bench-floor-"));
  const store = new StoreWriter(join(dir, "floor.db"));
  const writer = new ChainWriter({
    store, signer: keySourceOf(parsePrivateKey(generateKeyPair().privateKeyPem)), issuerId: "did:agent-receipts-daemon:local",
    verificationMethod: "did:agent-receipts-daemon:local#k1", chainIdBase: "floor",
  });
  const peer = { credential: { platform: "linux" as const, pid: 1234, uid: 1000, gid: 1000, exe_path: "/usr/bin/node" }, login: "bench" };
  const started = now();
  for (let i = 0; i < events; i += batch) {
    const chunk: ChainEvent[] = [];
    for (let j = i; j < Math.min(events, i + batch); j++) {
      // Parse from JSON as the daemon does, so the floor pays the same per-frame decode.
      const frame = JSON.parse(JSON.stringify({
        v: "1", ts_emit: new Date().toISOString(), session_id: "floor", channel: "sdk", tool: { name: "read_file" },
        decision: "allowed", correlation_id: `f-${j}`, input: { path: `/workspace/src/module-${j % 100}.ts`, offset: j, limit: 200 },
        output: { bytes: 4096, sha: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
      }));
      chunk.push({ no: j + 1, frame, peer });
    }
    writer.commit(chunk);
  }
  const perSecond = events / ((now() - started) / 1000);
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return perSecond;
}

console.log(`agent-receipts daemon benchmark (${EVENTS} events per run, synchronous=FULL)`);
const floor = inProcessFloor(EVENTS);
console.log(`in-process floor (build+canonicalize+hash+sign+batched insert, one thread): ${Math.round(floor)} receipts/s`);
for (const emitters of [4, 16]) {
  const r = await drive(emitters, EVENTS);
  console.log(
    `${String(emitters).padStart(2)} emitters: ${Math.round(r.perSecond)} durable receipts/s (${(r.perSecond / floor * 100).toFixed(0)}% of floor), ` +
      `send->commit at saturation p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms, daemon peak RSS ${r.rssMb.toFixed(1)} MB`,
  );
}
for (const emitters of [4, 16]) {
  const r = await drive(emitters, Math.min(EVENTS, RATE * 4), 10, 0, RATE);
  console.log(
    `${String(emitters).padStart(2)} emitters at an offered ${RATE}/s: send->commit p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms, ` +
      `daemon peak RSS ${r.rssMb.toFixed(1)} MB`,
  );
}
if (values.long !== undefined) {
  const n = Number(values.long);
  console.log(`long run: ${n} receipts from 4 emitters, daemon RSS sampled every ${n / 10}`);
  const r = await drive(4, n, 1000, n / 10);
  console.log(
    `long run: ${Math.round(r.perSecond)} durable receipts/s, peak RSS ${r.rssMb.toFixed(1)} MB, RSS samples ${r.rssSamples.map((x) => x.toFixed(0)).join(" ")} MB ` +
      `(last/first ${(r.rssSamples.at(-1)! / r.rssSamples[0]!).toFixed(2)})`,
  );
}
