// Transparency log benchmark (issue 12), against the compiled binary:
//  1. durable daemon throughput with the log on (tree, checkpoints every
//     1,000 receipts, a file anchor) vs off, alternating in one run;
//  2. on a 1,000,000-receipt database of several chains written with the
//     tree and checkpoints: tree storage per receipt, `prove` from process
//     start, and `verify` with the tree check vs the same database without
//     the log tables.
//
//   bun scripts/bench-tlog.ts [--events 40000] [--rounds 3] [--size 1000000] [--keep DIR] [--skip-daemon] [--skip-log]
//
// Targets: throughput on >= 95% of off; prove <= 20 ms; verify with the tree
// check <= 1.15x without; tree storage <= 80 bytes per receipt.
import { Database } from "bun:sqlite";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ChainWriter, type ChainEvent } from "../src/daemon/pipeline/chain-writer.ts";
import { Checkpointer } from "../src/daemon/writer/checkpointer.ts";
import { keySourceOf } from "../src/receipt/key-source.ts";
import { generateKeyPair, parsePrivateKey, rawPublicKey } from "../src/receipt/keys.ts";
import { StoreWriter } from "../src/store/writer.ts";
import { ed25519NoteSigner } from "../src/tlog/note.ts";
import { BINARY, frame, TEST_PEER } from "../tests/helpers/fixtures.ts";

const { values: flags } = parseArgs({
  options: {
    events: { type: "string", default: "40000" },
    rounds: { type: "string", default: "3" },
    size: { type: "string", default: "1000000" },
    "verify-rounds": { type: "string", default: "2" },
    "prove-runs": { type: "string", default: "30" },
    keep: { type: "string" },
    "skip-daemon": { type: "boolean", default: false },
    "skip-log": { type: "boolean", default: false },
  },
});
const EVENTS = Number(flags.events);
const ROUNDS = Number(flags.rounds);
const SIZE = Number(flags.size);
const now = () => performance.now();
const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (!existsSync(BINARY)) {
  console.error(`${BINARY} is missing: run "npm run build" first (or set AR_TEST_BINARY)`);
  process.exit(2);
}

// ---------------------------------------------------------------- 1. daemon
async function throughput(tlog: boolean, events: number): Promise<number> {
  const dir = join(tmpdir(), `ar-bench-tlog-${process.pid}-${tlog ? "on" : "off"}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "daemon.toml");
  writeFileSync(config, tlog ? `anchors = ["file:${join(dir, "anchor.log")}"]\n` : "transparency_log = false\n");
  const socket = join(dir, "events.sock");
  const db = join(dir, "receipts.db");
  const proc = spawn(BINARY, ["daemon", "--config", config, "--socket", socket, "--db", db, "--key", join(dir, "signing.key"), "--unsafe-socket-path", "--log-format", "json", "--chain-id", "bench"], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d));
  while (!err.includes('"event":"listening"')) {
    if (proc.exitCode !== null) throw new Error(`daemon failed to start:\n${err}`);
    await Bun.sleep(10);
  }
  const reader = new Database(db, { readonly: true });
  const maxRowid = reader.query<{ r: number | null }, []>("SELECT MAX(rowid) AS r FROM receipts");
  const emitters = 4;
  const per = Math.ceil(events / emitters);
  const started = now();
  const senders = Array.from({ length: emitters }, (_, i) =>
    new Promise<void>((resolve, reject) => {
      const p = spawn(process.execPath, [join(import.meta.dir, "bench", "sender.ts"), socket, String(per), `e${i}`, "1000000", "0"], { stdio: ["ignore", "ignore", "inherit"] });
      p.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`sender exited ${code}`))));
    }));
  while ((maxRowid.get()?.r ?? 0) < per * emitters) await Bun.sleep(5);
  const seconds = (now() - started) / 1000;
  await Promise.all(senders);
  reader.close();
  proc.kill("SIGTERM");
  await new Promise((r) => proc.once("exit", r));
  if (tlog && !err.includes('"checkpoints":')) throw new Error(`no checkpoints with the log on:\n${err}`);
  rmSync(dir, { recursive: true, force: true });
  return (per * emitters) / seconds;
}

/**
 * The writer thread's work alone, in this process: build, sign and commit
 * `events` receipts in batches of 512 with the tree and checkpoints vs
 * without. CPU time, which other jobs on the machine disturb less than wall
 * time.
 */
function writerWork(tlog: boolean, events: number): { cpuMs: number; wallMs: number } {
  const dir = join(tmpdir(), `ar-bench-tlog-writer-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const key = keySourceOf(parsePrivateKey(generateKeyPair().privateKeyPem));
  const store = new StoreWriter(join(dir, "w.db"), { tlog });
  const checkpointer = tlog
    ? new Checkpointer(store.tlog!, ed25519NoteSigner("bench.example/log", (m) => key.sign(m), rawPublicKey(key.publicKey)), { every: 1000, intervalMs: 3_600_000 }, () => {})
    : null;
  const writer = new ChainWriter({ store, signer: key, issuerId: "did:agent-receipts-daemon:local", verificationMethod: "did:agent-receipts-daemon:local#k1", chainIdBase: "w" });
  const cpu = process.cpuUsage();
  const started = now();
  for (let i = 0; i < events; i += 512) {
    const batch: ChainEvent[] = [];
    for (let j = i; j < Math.min(events, i + 512); j++) batch.push({ no: j, frame: frame(j), peer: TEST_PEER });
    writer.commit(batch);
    checkpointer?.afterCommit();
  }
  const used = process.cpuUsage(cpu);
  const wallMs = now() - started;
  checkpointer?.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return { cpuMs: (used.user + used.system) / 1000, wallMs };
}

if (!flags["skip-daemon"]) {
  const on: number[] = [];
  const off: number[] = [];
  for (let r = 0; r < ROUNDS * 2; r++) {
    for (const mode of r % 2 === 0 ? [false, true] : [true, false]) (mode ? on : off).push(writerWork(mode, 20_000).cpuMs);
  }
  console.log(`writer thread's work in-process (20,000 receipts, ${ROUNDS * 2} rounds): median CPU ${fmt(median(on))} ms with the log vs ${fmt(median(off))} ms without: ${((median(off) / median(on)) * 100).toFixed(1)}% of the throughput`);
}

if (!flags["skip-daemon"]) {
  console.log(`daemon: ${fmt(EVENTS)} events from 4 emitters per run, synchronous=FULL, ${ROUNDS} rounds alternating log off/on`);
  const on: number[] = [];
  const off: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so a drift in the machine's load does not favour one.
    for (const mode of r % 2 === 0 ? [false, true] : [true, false]) {
      const rate = await throughput(mode, EVENTS);
      (mode ? on : off).push(rate);
      console.log(`  round ${r + 1} log ${mode ? "on " : "off"}: ${fmt(rate)} durable receipts/s`);
    }
  }
  const ratio = median(on) / median(off);
  console.log(`daemon: median ${fmt(median(on))}/s with the log vs ${fmt(median(off))}/s without: ${(ratio * 100).toFixed(1)}% (target >= 95%)`);
}

// ---------------------------------------------------------------- 2. a large log
function buildLog(dir: string, size: number): { db: string; publicKey: string; ids: string[] } {
  const db = join(dir, "receipts.db");
  const publicKey = join(dir, "signing.key.pub");
  const idsFile = join(dir, "ids.json");
  if (existsSync(db) && existsSync(idsFile)) {
    console.log(`reusing ${db}`);
    return { db, publicKey, ids: JSON.parse(readFileSync(idsFile, "utf8")) as string[] };
  }
  const pair = generateKeyPair();
  writeFileSync(publicKey, pair.publicKeyPem);
  const key = keySourceOf(parsePrivateKey(pair.privateKeyPem));
  const store = new StoreWriter(db);
  const checkpointer = new Checkpointer(store.tlog!, ed25519NoteSigner("bench.example/log", (m) => key.sign(m), rawPublicKey(key.publicKey)), { every: 1000, intervalMs: 3_600_000 }, (m) => {
    throw new Error(m);
  });
  const writer = new ChainWriter({ store, signer: key, issuerId: "did:agent-receipts-daemon:local", verificationMethod: "did:agent-receipts-daemon:local#k1", chainIdBase: "bench" });
  const started = now();
  const agents = [undefined, "planner", "coder", "tester"];
  for (let i = 0; i < size; i += 1000) {
    const batch: ChainEvent[] = [];
    for (let j = i; j < Math.min(size, i + 1000); j++) batch.push({ no: j, frame: frame(j, agents[j % 4] === undefined ? {} : { agent_id: agents[j % 4] }), peer: TEST_PEER });
    writer.commit(batch);
    checkpointer.afterCommit();
    if (i % 100_000 === 0 && i > 0) process.stderr.write(`  ${fmt(i)} receipts written (${fmt(i / ((now() - started) / 1000))}/s)\n`);
  }
  writer.terminate();
  checkpointer.issueNow();
  checkpointer.stop();
  store.close();
  const conn = new Database(db, { readonly: true });
  const ids = conn.query<{ id: string }, []>("SELECT id FROM receipts WHERE rowid % 9973 = 0").all().map((r) => r.id);
  conn.close();
  writeFileSync(idsFile, JSON.stringify(ids));
  console.log(`built ${fmt(size)} receipts with the tree and checkpoints in ${((now() - started) / 1000).toFixed(0)} s`);
  return { db, publicKey, ids };
}

function timed(args: string[]): { ms: number; code: number; stdout: string } {
  const t = now();
  const r = spawnSync(BINARY, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return { ms: now() - t, code: r.status ?? -1, stdout: r.stdout };
}

if (!flags["skip-log"]) {
  const dir = flags.keep ?? join(tmpdir(), `ar-bench-tlog-log-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const { db, publicKey, ids } = buildLog(dir, SIZE);
  const conn = new Database(db, { readonly: true });
  const receipts = conn.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM receipts").get()!.n;
  const sizes = conn.query<{ name: string; bytes: number }, []>("SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name").all();
  conn.close();
  const tree = sizes.filter((s) => /tlog_tiles|tlog_runs/.test(s.name)).reduce((n, s) => n + s.bytes, 0);
  const logAll = sizes.filter((s) => /tlog/.test(s.name)).reduce((n, s) => n + s.bytes, 0);
  const receiptsBytes = sizes.filter((s) => !/tlog/.test(s.name)).reduce((n, s) => n + s.bytes, 0);
  console.log(
    `storage: ${fmt(receipts)} receipts; tree (tiles + runs) ${fmt(tree / receipts, 1)} bytes/receipt (target <= 80); ` +
      `with checkpoints ${fmt(logAll / receipts, 1)} bytes/receipt; receipts and their indexes ${fmt(receiptsBytes / receipts)} bytes/receipt`,
  );

  const proveRuns = Number(flags["prove-runs"]);
  const proveMs: number[] = [];
  for (let i = 0; i < proveRuns; i++) {
    const id = ids[(i * 7919) % ids.length]!;
    const r = timed(["prove", id, "--db", db]);
    if (r.code !== 0) throw new Error(`prove ${id} exited ${r.code}`);
    proveMs.push(r.ms);
  }
  proveMs.sort((a, b) => a - b);
  console.log(`prove: ${proveRuns} receipts spread over the log, from process start to exit: median ${proveMs[Math.floor(proveRuns / 2)]!.toFixed(1)} ms, max ${proveMs.at(-1)!.toFixed(1)} ms (target <= 20 ms)`);
  const version = timed(["--version"]);
  console.log(`  (process start alone, --version: ${version.ms.toFixed(1)} ms)`);

  const bare = join(dir, "receipts-without-log.db");
  if (!existsSync(bare)) {
    const c = new Database(db, { readonly: true });
    c.run(`VACUUM INTO '${bare}'`);
    c.close();
    const b = new Database(bare);
    for (const t of ["tlog_tiles", "tlog_runs", "tlog_checkpoints", "tlog_cosignatures"]) b.run(`DROP TABLE ${t}`);
    b.close();
  }
  const withLog: number[] = [];
  const without: number[] = [];
  for (let r = 0; r < Number(flags["verify-rounds"]); r++) {
    for (const which of r % 2 === 0 ? ["without", "with"] : ["with", "without"]) {
      const v = timed(["verify", "--db", which === "with" ? db : bare, "--public-key", publicKey]);
      if (v.code !== 0) throw new Error(`verify (${which} the log) exited ${v.code}:\n${v.stdout.slice(-2000)}`);
      (which === "with" ? withLog : without).push(v.ms / 1000);
      console.log(`  verify ${which} the log: ${(v.ms / 1000).toFixed(2)} s`);
    }
  }
  console.log(`verify: median ${median(withLog).toFixed(2)} s with the tree check vs ${median(without).toFixed(2)} s without: ${(median(withLog) / median(without)).toFixed(3)}x (target <= 1.15x)`);
  if (flags.keep === undefined) rmSync(dir, { recursive: true, force: true });
}
