// Start-up benchmark of the short-lived commands, each run as the compiled
// binary in a fresh process, beside a bare `bun -e 0` measured in the same
// run (ratios are to it): median and p90 wall time, and peak RSS.
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

function measure(c: Case): Result {
  const wall: number[] = [];
  let rss = 0;
  for (let i = 0; i < RUNS + 3; i++) {
    const t0 = performance.now();
    const r = Bun.spawnSync(c.argv, { stdin: c.stdin === undefined ? "ignore" : Buffer.from(c.stdin), stdout: "ignore", stderr: "pipe", env: { ...process.env, ...c.env } });
    const ms = performance.now() - t0;
    if (r.exitCode !== 0) throw new Error(`${c.name} exited ${r.exitCode}: ${r.stderr.toString()}`);
    if (i < 3) continue; // warm the page cache
    wall.push(ms);
    rss = Math.max(rss, r.resourceUsage.maxRSS);
  }
  wall.sort((a, b) => a - b);
  const at = (q: number) => wall[Math.min(wall.length - 1, Math.floor(q * wall.length))]!;
  return { name: c.name, p50: at(0.5), p90: at(0.9), rssMb: rss / 1e6, targetMs: c.targetMs, targetMb: c.targetMb };
}

const daemon = await startDaemon();
const empty = tempDir("ar-bench-empty-");
const keys = writeKeyFiles(empty);
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
  results = cases.map(measure);
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
