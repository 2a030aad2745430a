// Start-up benchmark of the short-lived commands, each run as the compiled
// binary in a fresh process, beside a bare `bun -e 0` measured in the same
// run (ratios are to it): median and p90 wall time, and peak RSS (wait4,
// through scripts/lib/spawn-stats.py; needs python3).
//
//   bun scripts/bench-startup.ts [--runs 40]
//
// - `--version`
// - `emit --tool ...`: one event, confirmed by a running daemon
// - `hook claude-code`: one PostToolUse payload on stdin, confirmed
// - `verify` of an empty database
// Targets on the reference machine: --version <= 10 ms; emit and hook median
// <= 12 ms and peak RSS <= 25 MB.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { StoreWriter } from "../src/store/writer.ts";
import { startDaemon } from "../tests/helpers/daemon.ts";
import { BINARY, tempDir, writeKeyFiles } from "../tests/helpers/fixtures.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "40" } } });
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 5) throw new Error("--runs must be an integer >= 5");
if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run "npm run build" first`);

interface Case {
  name: string;
  argv: string[];
  stdin?: string;
  env?: Record<string, string>;
  targetMs?: number;
  targetMb?: number;
}
interface Result { name: string; p50: number; p90: number; rssMb: number; targetMs?: number; targetMb?: number }

/** Runs every case through scripts/lib/spawn-stats.py (see there why not Bun.spawn). */
function measureAll(cases: Case[]): Result[] {
  const spec = JSON.stringify({ runs: RUNS, warmup: 3, cases: cases.map(({ name, argv, stdin, env }) => ({ name, argv, stdin, env })) });
  const r = Bun.spawnSync(["python3", join(import.meta.dir, "lib", "spawn-stats.py")], { stdin: Buffer.from(spec), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`measuring failed: ${r.stderr.toString()}`);
  const runs = JSON.parse(r.stdout.toString()) as Array<{ name: string; wall_ms: number[]; max_rss_kb: number[] }>;
  return runs.map((run, i) => {
    const wall = [...run.wall_ms].sort((a, b) => a - b);
    const at = (q: number) => wall[Math.min(wall.length - 1, Math.floor(q * wall.length))]!;
    const c = cases[i]!;
    return { name: run.name, p50: at(0.5), p90: at(0.9), rssMb: Math.max(...run.max_rss_kb) / 1024, targetMs: c.targetMs, targetMb: c.targetMb };
  });
}

const daemon = await startDaemon();
const empty = tempDir("ar-bench-empty-");
const keys = writeKeyFiles(empty);
new StoreWriter(join(empty, "receipts.db")).close(); // the schema, no receipts
const hookPayload = JSON.stringify({
  session_id: "bench-session", hook_event_name: "PostToolUse", tool_name: "Read", tool_use_id: "toolu_bench",
  tool_input: { file_path: "/etc/hostname" }, tool_response: { content: "bench" }, cwd: "/tmp", transcript_path: "/tmp/t.jsonl",
});
const env = { AGENTRECEIPTS_SOCKET: daemon.socket, XDG_DATA_HOME: join(daemon.dir, "data"), NO_COLOR: "1" };
const cases: Case[] = [
  { name: "bun -e 0", argv: [process.execPath, "-e", "0"] },
  { name: "--version", argv: [BINARY, "--version"], targetMs: 10 },
  { name: "emit (confirmed)", argv: [BINARY, "emit", "--tool", "bench", "--input", '{"n":1}'], env, targetMs: 12, targetMb: 25 },
  { name: "hook claude-code (confirmed)", argv: [BINARY, "hook", "claude-code", "--strict"], stdin: hookPayload, env, targetMs: 12, targetMb: 25 },
  { name: "verify (empty db)", argv: [BINARY, "verify", "--db", join(empty, "receipts.db"), "--public-key", keys.publicKey], env },
];

let results: Result[];
try {
  results = measureAll(cases);
} finally {
  daemon.proc.kill("SIGTERM");
  await daemon.exited;
}
const base = results[0]!;
const pad = (s: string, n: number) => s.padEnd(n);
console.log(`start-up, ${RUNS} runs each (${process.platform}/${process.arch}, ${navigator.hardwareConcurrency} CPUs)`);
console.log(`${pad("command", 30)} ${pad("p50 ms", 8)} ${pad("p90 ms", 8)} ${pad("x bun", 7)} ${pad("RSS MB", 8)} ${pad("x bun", 7)} target`);
let missed = 0;
for (const r of results) {
  const ok = (r.targetMs === undefined || r.p50 <= r.targetMs) && (r.targetMb === undefined || r.rssMb <= r.targetMb);
  if (!ok) missed++;
  const target = r.targetMs === undefined ? "" : `p50 <= ${r.targetMs} ms${r.targetMb ? `, RSS <= ${r.targetMb} MB` : ""}: ${ok ? "met" : "MISSED"}`;
  console.log(`${pad(r.name, 30)} ${pad(r.p50.toFixed(1), 8)} ${pad(r.p90.toFixed(1), 8)} ${pad((r.p50 / base.p50).toFixed(2), 7)} ${pad(r.rssMb.toFixed(1), 8)} ${pad((r.rssMb / base.rssMb).toFixed(2), 7)} ${target}`);
}
process.exitCode = missed > 0 ? 1 : 0;
