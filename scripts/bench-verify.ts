// Benchmark of `agent-receipts verify` (the compiled binary, as a separate
// process) on chains of configurable sizes, against the raw single-core Ed25519
// verify rate of node:crypto measured in the same run on the same canonical bytes.
//
//   bun scripts/bench-verify.ts [--sizes 100000,400000] [--raw-seconds 3] [--keep]
//
// Targets: verify throughput >= 1.5x the raw single-core rate, peak RSS < 200 MB,
// and peak RSS that does not grow with the chain length.
import { Database } from "bun:sqlite";
import { verify as edVerify } from "node:crypto";
import { existsSync, rmSync, statSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { canonicalReceipt } from "../src/receipt/canonical.ts";
import { parsePublicKey } from "../src/receipt/keys.ts";
import { decodeProofValue } from "../src/receipt/proof.ts";
import { BINARY, makeChainDb, tempDir, writeKeyFiles } from "../tests/helpers/fixtures.ts";

const THROUGHPUT_TARGET = 1.5;
const RSS_TARGET_MB = 200;
const MB = 1024 * 1024;

const { values: flags } = parseArgs({
  options: {
    sizes: { type: "string", default: "100000,400000" },
    "raw-seconds": { type: "string", default: "3" },
    "raw-sample": { type: "string", default: "5000" },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (flags.help) {
  console.log("usage: bun scripts/bench-verify.ts [--sizes 100000,400000] [--raw-seconds 3] [--raw-sample 5000] [--keep]");
  process.exit(0);
}

const sizes = flags.sizes!.split(",").map((s) => Number(s.trim()));
if (sizes.some((n) => !Number.isSafeInteger(n) || n < 2)) {
  console.error(`--sizes must be a comma-separated list of integers >= 2, got ${flags.sizes}`);
  process.exit(2);
}
if (!existsSync(BINARY)) {
  console.error(`${BINARY} is missing: run "npm run build" first`);
  process.exit(2);
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * Raw Ed25519 verify rate on one core: node:crypto verify of real canonical
 * receipt bytes (prepared beforehand) in a tight loop for `seconds`.
 */
function rawVerifyRate(db: string, publicKeyPem: string, sample: number, seconds: number): { rate: number; verifies: number } {
  const key = parsePublicKey(publicKeyPem);
  const d = new Database(db, { readonly: true });
  const items: Array<{ data: Buffer; sig: Uint8Array }> = [];
  try {
    for (const row of d.query<{ receipt_json: string }, [number]>("SELECT receipt_json FROM receipts ORDER BY rowid LIMIT ?").iterate(sample)) {
      const receipt = JSON.parse(row.receipt_json) as { proof: { proofValue: string } };
      items.push({ data: Buffer.from(canonicalReceipt(receipt), "utf8"), sig: decodeProofValue(receipt.proof.proofValue) });
    }
  } finally {
    d.close();
  }
  // Warm up, and check the bytes really verify (a rate of failing verifies would be meaningless).
  for (const it of items.slice(0, 200)) if (!edVerify(null, it.data, key, it.sig)) throw new Error("raw verify failed on a stored receipt");
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 256; i++) {
      const it = items[n % items.length]!;
      edVerify(null, it.data, key, it.sig);
      n++;
    }
    now = performance.now();
  }
  return { rate: n / ((now - start) / 1000), verifies: n };
}

interface VerifyRun {
  wallSeconds: number;
  /** CPU seconds (user + system) of the verify process, all threads. */
  cpuSeconds: number;
  maxRssBytes: number;
  vmHwmBytes: number;
  count: number;
  valid: boolean;
  status: string;
}

/** Runs the compiled binary; peak RSS from wait4 (resourceUsage) and, as a cross-check, VmHWM polled from /proc. */
async function runVerify(db: string, publicKey: string): Promise<VerifyRun> {
  const start = performance.now();
  const proc = Bun.spawn([BINARY, "verify", "--db", db, "--public-key", publicKey, "--json"], { stdout: "pipe", stderr: "pipe" });
  const stdout = new Response(proc.stdout).text();
  const stderr = new Response(proc.stderr).text();
  let hwmKb = 0;
  const statusPath = `/proc/${proc.pid}/status`;
  const canPoll = process.platform === "linux";
  while (proc.exitCode === null && canPoll) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(await Bun.file(statusPath).text());
      if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
    } catch {
      // exited between the check and the read
    }
    await Bun.sleep(5);
  }
  const code = await proc.exited;
  const wallSeconds = (performance.now() - start) / 1000;
  if (code !== 0) throw new Error(`verify exited ${code}: ${await stderr}`);
  const report = JSON.parse(await stdout) as { valid: boolean; chains: Array<{ count: number; status: string }> };
  const usage = proc.resourceUsage();
  return {
    wallSeconds,
    cpuSeconds: usage === undefined ? 0 : Number(usage.cpuTime.total) / 1e6,
    maxRssBytes: usage?.maxRSS ?? 0,
    vmHwmBytes: hwmKb * 1024,
    count: report.chains.reduce((s, c) => s + c.count, 0),
    valid: report.valid,
    status: report.chains.map((c) => c.status).join(","),
  };
}

interface Row {
  size: number;
  buildSeconds: number;
  dbMb: number;
  raw: number;
  run: VerifyRun;
}

console.log(`agent-receipts verify benchmark: ${availableParallelism()} CPU(s), bun ${Bun.version}, ${process.platform}-${process.arch}`);
console.log(`binary: ${BINARY}`);
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (other busy processes make every number here lower)`);
console.log(`sizes: ${sizes.map((s) => fmt(s)).join(", ")} receipts\n`);

const rows: Row[] = [];
for (const size of sizes) {
  const dir = tempDir("ar-bench-");
  try {
    const keys = writeKeyFiles(dir);
    const db = join(dir, "receipts.db");
    process.stdout.write(`[${fmt(size)}] building chain (${fmt(size - 1)} events + terminator)... `);
    const t0 = performance.now();
    makeChainDb(db, keys.privateKeyPem, size - 1, { chainId: "bench", terminate: true, batch: 1000 });
    const buildSeconds = (performance.now() - t0) / 1000;
    const dbMb = [db, `${db}-wal`].filter(existsSync).reduce((s, p) => s + statSync(p).size, 0) / MB;
    console.log(`${buildSeconds.toFixed(1)} s, ${dbMb.toFixed(0)} MB`);

    process.stdout.write(`[${fmt(size)}] raw Ed25519 verify, node:crypto, 1 core... `);
    const raw = rawVerifyRate(db, keys.publicKeyPem, Number(flags["raw-sample"]), Number(flags["raw-seconds"]));
    console.log(`${fmt(raw.rate)} verifies/s (${fmt(raw.verifies)} verifies)`);

    process.stdout.write(`[${fmt(size)}] agent-receipts verify (separate process)... `);
    const run = await runVerify(db, keys.publicKey);
    if (!run.valid || run.count !== size || run.status !== "interrupted") {
      throw new Error(`unexpected verify result: valid=${run.valid} count=${run.count} status=${run.status}`);
    }
    console.log(
      `${run.wallSeconds.toFixed(2)} s, ${fmt(size / run.wallSeconds)} receipts/s, CPU ${fmt((100 * run.cpuSeconds) / run.wallSeconds)}%, peak RSS ${(run.maxRssBytes / MB).toFixed(1)} MB` +
        ` (VmHWM ${(run.vmHwmBytes / MB).toFixed(1)} MB)\n`,
    );
    rows.push({ size, buildSeconds, dbMb, raw: raw.rate, run });
  } finally {
    if (flags.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const header = ["receipts", "verify s", "receipts/s", "raw 1-core/s", "ratio", "CPU %", "peak RSS MB", "VmHWM MB"];
const table = rows.map((r) => [
  fmt(r.size),
  r.run.wallSeconds.toFixed(2),
  fmt(r.size / r.run.wallSeconds),
  fmt(r.raw),
  `${(r.size / r.run.wallSeconds / r.raw).toFixed(2)}x`,
  fmt((100 * r.run.cpuSeconds) / r.run.wallSeconds),
  (r.run.maxRssBytes / MB).toFixed(1),
  (r.run.vmHwmBytes / MB).toFixed(1),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
console.log("results");
console.log(line(header));
for (const t of table) console.log(line(t));
console.log("");

let ok = true;
for (const r of rows) {
  const ratio = r.size / r.run.wallSeconds / r.raw;
  const rss = r.run.maxRssBytes / MB;
  const tp = ratio >= THROUGHPUT_TARGET;
  const mem = rss < RSS_TARGET_MB;
  ok &&= tp && mem;
  console.log(
    `${fmt(r.size).padStart(widths[0]!)}: throughput ${ratio.toFixed(2)}x raw single-core (target >= ${THROUGHPUT_TARGET}x) ${tp ? "PASS" : "FAIL"}; ` +
      `peak RSS ${rss.toFixed(1)} MB (target < ${RSS_TARGET_MB} MB) ${mem ? "PASS" : "FAIL"}`,
  );
}
if (rows.length > 1) {
  const small = rows.reduce((a, b) => (a.size <= b.size ? a : b));
  const large = rows.reduce((a, b) => (a.size >= b.size ? a : b));
  console.log(
    `memory vs length: ${fmt(large.size)} receipts ${(large.run.maxRssBytes / MB).toFixed(1)} MB / ` +
      `${fmt(small.size)} receipts ${(small.run.maxRssBytes / MB).toFixed(1)} MB = ` +
      `${(large.run.maxRssBytes / small.run.maxRssBytes).toFixed(2)}x RSS for ${(large.size / small.size).toFixed(1)}x receipts`,
  );
}
console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(ok ? "all targets met" : "some targets NOT met");
process.exitCode = ok ? 0 : 1;
