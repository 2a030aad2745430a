// Benchmark of the readers (`list`, `export`, `tail -f`): the compiled binary
// as a separate process, timed from spawn to exit, on a database of 1,000,000
// receipts over 10 chains written by the project's own chain writer (built
// once, cached under --dir).
//
//   bun scripts/bench-readers.ts [--receipts 1000000] [--runs 5] [--dir /tmp/agent-receipts-bench-readers]
//                                [--rebuild] [--tail-seconds 10] [--tail-rate 2000] [--idle-seconds 10]
//
// Targets: list --limit 50, unfiltered and with each single filter, <= 100 ms
// wall; export >= 100,000 receipts/s with peak RSS <= 100 MB; tail -f
// commit-to-print p50 <= 50 ms under 2,000 receipts/s; tail -f idle CPU < 1%.
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { AttestedPeer } from "../src/daemon/pipeline/builder.ts";
import type { Frame } from "../src/protocol/frame-schema.ts";
import { READER_INDEXES_SQL, SCHEMA_SQL } from "../src/store/schema.ts";
import { BINARY, frame, makeChainDb, tempDir, writeKeyFiles } from "../tests/helpers/fixtures.ts";

const LIST_TARGET_MS = 100;
const EXPORT_TARGET_PER_S = 100_000;
const EXPORT_RSS_TARGET_MB = 100;
const TAIL_P50_TARGET_MS = 50;
const IDLE_CPU_TARGET = 1;
/** Bump when the data set changes, so a cached database is rebuilt. */
const DATA_VERSION = 1;
const CHAINS = 9; // root chains, one per day; the last day's sub-agent chain makes ten
const MB = 1024 * 1024;

const { values: flags } = parseArgs({
  options: {
    receipts: { type: "string", default: "1000000" },
    runs: { type: "string", default: "5" },
    dir: { type: "string", default: "/tmp/agent-receipts-bench-readers" },
    rebuild: { type: "boolean", default: false },
    "tail-seconds": { type: "string", default: "10" },
    "tail-rate": { type: "string", default: "2000" },
    "idle-seconds": { type: "string", default: "10" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (flags.help) {
  console.log("usage: bun scripts/bench-readers.ts [--receipts 1000000] [--runs 5] [--dir DIR] [--rebuild] [--tail-seconds 10] [--tail-rate 2000] [--idle-seconds 10]");
  process.exit(0);
}
if (!existsSync(BINARY)) {
  console.error(`${BINARY} is missing: run "npm run build" first (or set AR_TEST_BINARY)`);
  process.exit(2);
}
const total = Number(flags.receipts);
const runs = Number(flags.runs);
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const now = () => performance.timeOrigin + performance.now();
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

// ------------------------------------------------------------------ data set

const TOOLS = ["Read", "Write", "Edit", "Bash", "Grep", "Glob", "WebFetch", "Task", "read_file", "write_file",
  "list_dir", "search", "mcp__github__create_issue", "mcp__github__list_prs", "mcp__fs__read", "mcp__fs__write",
  "run_tests", "deploy", "query_db", "send_mail"];
const CHANNELS = ["claude-code", "sdk", "mcp"];
const EXES = ["/usr/bin/node", "/usr/local/bin/claude", "/usr/bin/python3", "/opt/agent/bin/agent", "/usr/bin/bash"];
const RARE_TOOL = "rotate_keys"; // 10 receipts in the whole database
const perChain = Math.floor(total / CHAINS);

interface Meta {
  version: number;
  receipts: number;
  start: number;
  end: number;
  chains: string[];
}

function frameOf(day: number, i: number): Frame {
  const g = day * perChain + i;
  const channel = CHANNELS[g % 3]!;
  const decision = g % 50 === 0 ? "denied" : g % 20 === 0 ? "pending" : "allowed";
  const extra: Partial<Frame> = {
    session_id: `session-${Math.floor(g / 1000)}`, channel, tool: { name: g % 100_000 === 7 ? RARE_TOOL : TOOLS[g % TOOLS.length]! }, decision,
  };
  if (day === CHAINS - 1 && g % 10 === 3) extra.agent_id = "reviewer";
  return frame(g, extra);
}

function peerOf(g: number): AttestedPeer {
  return { credential: { platform: "linux", pid: 1000 + (g % 5000), uid: 1000 + (g % 3), gid: 1000, exe_path: EXES[g % EXES.length]! }, login: `user${g % 3}` };
}

function buildDatabase(dir: string): Meta {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const keys = writeKeyFiles(dir);
  const db = join(dir, "receipts.db");
  // Day k is one root chain; receipts spread evenly over its 24 hours, the last one a minute before the build.
  const end = Date.now() - 60_000;
  const start = end - CHAINS * 86_400_000;
  const step = 86_400_000 / perChain;
  const chains: string[] = [];
  const t0 = performance.now();
  for (let day = 0; day < CHAINS; day++) {
    // The chain writer reads its clock once per receipt, in order.
    let reading = 0;
    const clock = () => new Date(start + day * 86_400_000 + Math.min(reading++, perChain - 1) * step);
    const id = `bench-day-${day + 1}`;
    makeChainDb(db, keys.privateKeyPem, perChain, {
      chainId: id, terminate: day < CHAINS - 1, batch: 500, clock,
      frames: (k) => frameOf(day, k),
      peers: (k) => peerOf(day * perChain + k),
    });
    chains.push(id);
    process.stdout.write(`  built chain ${id} (${fmt(perChain)} receipts, ${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  chains.push(`bench-day-${CHAINS}/agent/reviewer`);
  const meta: Meta = { version: DATA_VERSION, receipts: perChain * CHAINS, start, end, chains };
  writeFileSync(join(dir, "meta.json"), JSON.stringify(meta));
  return meta;
}

function loadOrBuild(dir: string): Meta {
  const metaPath = join(dir, "meta.json");
  if (!flags.rebuild && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, "utf8")) as Meta;
    if (meta.version === DATA_VERSION && meta.receipts === perChain * CHAINS) return meta;
  }
  console.log(`building ${fmt(perChain * CHAINS)} receipts over ${CHAINS + 1} chains in ${dir} (cached for later runs)`);
  return buildDatabase(dir);
}

// ------------------------------------------------------------------ runs

interface Timed {
  ms: number;
  rssMb: number;
  stdout: string;
  code: number | null;
}

function timed(args: string[]): Timed {
  const t = performance.now();
  const r = Bun.spawnSync([BINARY, ...args], { stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t;
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")} exited ${r.exitCode}: ${r.stderr.toString()}`);
  return { ms, rssMb: (r.resourceUsage?.maxRSS ?? 0) / MB, stdout: r.stdout.toString(), code: r.exitCode };
}

function listCases(meta: Meta, dbArgs: string[]): Array<[string, string[]]> {
  const lastHour = new Date(meta.end - 3_600_000).toISOString();
  const firstDay = new Date(meta.start + 86_400_000).toISOString();
  return [
    ["(no filter)", []],
    ["--chain bench-day-3 (an old chain)", ["--chain", "bench-day-3"]],
    ["--since 1h (the data's last hour)", ["--since", lastHour]],
    ["--until <end of the first day>", ["--until", firstDay]],
    ["--session session-424", ["--session", "session-424"]],
    ["--channel claude-code", ["--channel", "claude-code"]],
    ["--tool Bash", ["--tool", "Bash"]],
    ["--tool 'mcp__*'", ["--tool", "mcp__*"]],
    [`--tool ${RARE_TOOL} (rare: 10 receipts)`, ["--tool", RARE_TOOL]],
    ["--type 'sdk.*'", ["--type", "sdk.*"]],
    ["--risk high", ["--risk", "high"]],
    ["--status failure", ["--status", "failure"]],
    ["--status pending", ["--status", "pending"]],
    ["--agent reviewer", ["--agent", "reviewer"]],
    ["--uid 1001", ["--uid", "1001"]],
    ["--exe python3", ["--exe", "python3"]],
    ["--exe '/usr/*'", ["--exe", "/usr/*"]],
  ].map(([label, args]) => [label as string, [...dbArgs, ...(args as string[])]]);
}

function benchList(meta: Meta, db: string): boolean {
  const version = Array.from({ length: runs }, () => timed(["--version"]).ms);
  console.log(`\nlist --limit 50 --jsonl, wall ms from spawn to exit, median of ${runs} (process start alone, --version: ${median(version).toFixed(1)} ms)`);
  console.log("| filter | rows | median ms | max ms | vs target |");
  console.log("|---|---|---|---|---|");
  let ok = true;
  for (const [label, args] of listCases(meta, ["--db", db])) {
    timed(["list", "--limit", "50", "--jsonl", ...args]); // warm the page cache
    const samples = Array.from({ length: runs }, () => timed(["list", "--limit", "50", "--jsonl", ...args]));
    const ms = samples.map((s) => s.ms);
    const rows = samples[0]!.stdout.split("\n").filter((l) => l !== "").length;
    const m = median(ms);
    ok &&= m <= LIST_TARGET_MS;
    console.log(`| ${label} | ${rows} | ${m.toFixed(1)} | ${Math.max(...ms).toFixed(1)} | ${(m / LIST_TARGET_MS).toFixed(2)}x |`);
  }
  return ok;
}

function benchExport(meta: Meta, db: string, work: string): boolean {
  const out = join(work, "export.jsonl");
  timed(["export", "--db", db, "--chain", "bench-day-1", "--out", out]); // warm
  const r = timed(["export", "--db", db, "--out", out]);
  const size = statSync(out).size;
  const rate = meta.receipts / (r.ms / 1000);
  console.log(`\nexport of all ${fmt(meta.receipts)} receipts to a file: ${(r.ms / 1000).toFixed(2)} s, ${fmt(rate)} receipts/s ` +
    `(${(rate / EXPORT_TARGET_PER_S).toFixed(2)}x the target of ${fmt(EXPORT_TARGET_PER_S)}/s), ${fmt(size / MB)} MB, ` +
    `peak RSS ${r.rssMb.toFixed(1)} MB (${(r.rssMb / EXPORT_RSS_TARGET_MB).toFixed(2)}x the limit of ${EXPORT_RSS_TARGET_MB} MB)`);
  const lines = Number(Bun.spawnSync(["wc", "-l", out]).stdout.toString().trim().split(/\s+/)[0]);
  if (lines !== meta.receipts + CHAINS - 1) console.log(`  WARNING: ${fmt(lines)} lines, expected ${fmt(meta.receipts + CHAINS - 1)} (receipts + terminators)`);
  rmSync(out, { force: true });
  return rate >= EXPORT_TARGET_PER_S && r.rssMb <= EXPORT_RSS_TARGET_MB;
}

/** CPU seconds a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

async function benchTail(work: string): Promise<boolean> {
  const seconds = Number(flags["tail-seconds"]);
  const rate = Number(flags["tail-rate"]);
  const perCommit = 10;
  const keys = writeKeyFiles(work);
  const db = join(work, "live.db");
  // The database exists (and is in WAL mode) before tail opens it.
  makeChainDb(db, keys.privateKeyPem, 1, { chainId: "warmup" });
  const tail = Bun.spawn([BINARY, "tail", "-f", "-n", "0", "--jsonl", "--db", db], { stdout: "pipe", stderr: "pipe" });
  const arrivals = new Map<number, number>();
  let buffered = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of tail.stdout as ReadableStream<Uint8Array>) {
      const at = now();
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const m = /"chain_id":"live","previous_receipt_hash":[^,]*,"sequence":(\d+)/.exec(line);
        if (m) arrivals.set(Number(m[1]), at);
      }
    }
  })();
  await Bun.sleep(500);
  const writer = Bun.spawn([process.execPath, join(import.meta.dir, "bench", "live-writer.ts"), db, keys.key, "live", String(rate), String(perCommit)], { stdout: "pipe", stderr: "pipe" });
  await Bun.sleep(seconds * 1000);
  writer.kill("SIGTERM");
  await writer.exited;
  const commits = (await new Response(writer.stdout as ReadableStream).text()).trim().split("\n").filter((l) => l !== "").map((l) => l.split(" ").map(Number) as [number, number, number]);
  await Bun.sleep(300);
  // Idle: nothing written any more.
  const idleSeconds = Number(flags["idle-seconds"]);
  const c0 = cpuSeconds(tail.pid);
  const w0 = performance.now();
  await Bun.sleep(idleSeconds * 1000);
  const idleCpu = ((cpuSeconds(tail.pid) - c0) / ((performance.now() - w0) / 1000)) * 100;
  tail.kill("SIGINT");
  const tailCode = await tail.exited;
  await reading;

  const latencies: number[] = [];
  let missing = 0;
  for (const [from, to, committedAt] of commits) {
    for (let s = from; s <= to; s++) {
      const at = arrivals.get(s);
      if (at === undefined) missing++;
      else latencies.push(at - committedAt);
    }
  }
  latencies.sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const written = commits.length === 0 ? 0 : commits[commits.length - 1]![1];
  console.log(`\ntail -f --jsonl while a writer commits ${fmt(rate)} receipts/s (${perCommit} per commit, the daemon's chain writer, synchronous=FULL) for ${seconds} s:`);
  console.log(`  ${fmt(written)} receipts written, ${fmt(latencies.length)} printed, ${missing} missing; commit-to-print p50 ${p50.toFixed(1)} ms, ` +
    `p99 ${p99.toFixed(1)} ms, max ${latencies[latencies.length - 1]?.toFixed(1)} ms (p50 ${(p50 / TAIL_P50_TARGET_MS).toFixed(2)}x the target of ${TAIL_P50_TARGET_MS} ms)`);
  console.log(`  idle CPU over ${idleSeconds} s with nothing written: ${idleCpu.toFixed(2)}% of one core (target < ${IDLE_CPU_TARGET}%); exit on SIGINT: ${tailCode}`);
  return missing === 0 && p50 <= TAIL_P50_TARGET_MS && idleCpu < IDLE_CPU_TARGET && tailCode === 0;
}

/** What the reader indexes cost the writer: CPU per inserted row with and without them, same rows. */
function benchIndexCost(work: string): void {
  const keys = writeKeyFiles(work);
  const src = join(work, "rows.db");
  makeChainDb(src, keys.privateKeyPem, 20_000, { chainId: "rows", frames: (i) => frameOf(0, i), peers: peerOf });
  const s = new Database(src, { readonly: true });
  const rows = s.query("SELECT * FROM receipts").values();
  s.close();
  const cost = (withIndexes: boolean) => {
    const p = join(work, `insert-${withIndexes}.db`);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(p + suffix, { force: true });
    const d = new Database(p, { create: true });
    d.run("PRAGMA journal_mode = WAL");
    d.run(SCHEMA_SQL);
    if (withIndexes) d.run(READER_INDEXES_SQL);
    const insert = d.prepare(`INSERT INTO receipts VALUES (${rows[0]!.map(() => "?").join(", ")})`);
    const c0 = process.cpuUsage();
    for (let b = 0; b < rows.length; b += 500) {
      d.run("BEGIN");
      for (const r of rows.slice(b, b + 500)) insert.run(...(r as Array<string | number | null>));
      d.run("COMMIT");
    }
    const c = process.cpuUsage(c0);
    d.close();
    return (c.user + c.system) / rows.length;
  };
  const plain = Math.min(cost(false), cost(false), cost(false));
  const indexed = Math.min(cost(true), cost(true), cost(true));
  console.log(`\nreader indexes, cost to the writer: ${plain.toFixed(1)} -> ${indexed.toFixed(1)} µs CPU per inserted row ` +
    `(+${(indexed - plain).toFixed(1)} µs; best of 3 runs of 20,000 rows, synchronous=FULL commits not included)`);
}

const dir = flags.dir!;
const meta = loadOrBuild(dir);
const db = join(dir, "receipts.db");
const work = tempDir("ar-bench-readers-");
console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model}), load ${loadavg().map((l) => l.toFixed(2)).join(" ")}; ` +
  `database ${fmt(meta.receipts)} receipts + ${CHAINS - 1} terminators, ${meta.chains.length} chains, ${fmt(statSync(db).size / MB)} MB`);
try {
  const results = [benchList(meta, db), benchExport(meta, db, work), await benchTail(work)];
  benchIndexCost(work);
  console.log(`\n${results.every(Boolean) ? "all targets met" : "some targets NOT met (see above)"}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
