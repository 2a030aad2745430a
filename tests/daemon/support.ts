// Shared helpers of the daemon tests: separate sender processes, a raw daemon
// launcher for start-up cases, read-only views of the database, and the
// verifier run as a process.
import { Database } from "bun:sqlite";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, tempDir } from "../helpers/fixtures.ts";
import { launchDaemon as launchWith, startDaemon, type DaemonHandle, type Launched, type StartOptions } from "../helpers/daemon.ts";
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

export const SENDER = join(import.meta.dir, "fixtures", "sender.mjs");
export const BIND_AND_HANG = join(import.meta.dir, "fixtures", "bind-and-hang.mjs");

/** The two sender runtimes: different executables, so exe_path tells them apart. */
export const RUNTIMES = {
  node: Bun.which("node") ?? "/usr/bin/node",
  bun: process.execPath,
} as const;
export type Runtime = keyof typeof RUNTIMES;

export function realExe(runtime: Runtime): string {
  return realpathSync(RUNTIMES[runtime]);
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Step = { op: string; [key: string]: Json | undefined };
export interface Plan {
  steps: Step[];
  db?: string;
  sessions?: string[];
}

export interface SenderHandle {
  proc: ChildProcess;
  /** The sender's own pid and realpath(process.execPath), as it reported them. */
  hello: Promise<{ pid: number; exe: string; runtime: string }>;
  /** Every stdout JSON line, once the process has exited. */
  lines(): Array<Record<string, unknown>>;
  exited: Promise<number | string>;
  stderr(): string;
}

let planFiles = 0;
const liveSenders = new Set<ChildProcess>();

/** Kills every sender still running (for afterAll: a failed test must not leave processes behind). */
export function killSenders(): void {
  for (const p of liveSenders) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  liveSenders.clear();
}

/** Who the sender runs as: a bare uid/gid, or an argv prefix such as asUser() (which also sets supplementary groups). */
export interface SenderIdentity {
  uid?: number;
  gid?: number;
  wrap?: string[];
}

export function spawnSender(runtime: Runtime, socket: string, plan: Plan, as: SenderIdentity = {}): SenderHandle {
  let planArg = JSON.stringify(plan);
  if (planArg.length > 64 * 1024) {
    const file = join(tempDir("ar-plan-"), `plan-${++planFiles}.json`);
    writeFileSync(file, planArg);
    planArg = `@${file}`;
  }
  const { wrap, ...ids } = as;
  const argv = [...(wrap ?? []), RUNTIMES[runtime], SENDER, socket, planArg];
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], ...ids });
  liveSenders.add(proc);
  proc.once("exit", () => liveSenders.delete(proc));
  let out = "";
  let err = "";
  let helloResolve!: (v: { pid: number; exe: string; runtime: string }) => void;
  let helloReject!: (e: Error) => void;
  const hello = new Promise<{ pid: number; exe: string; runtime: string }>((res, rej) => {
    helloResolve = res;
    helloReject = rej;
  });
  proc.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    const first = out.split("\n")[0]!;
    if (out.includes("\n")) helloResolve(JSON.parse(first) as { pid: number; exe: string; runtime: string });
  });
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.on("exit", (code, signal) => {
      helloReject(new Error(`sender exited (${code ?? signal}) before saying hello: ${err}`));
      resolve(code ?? signal ?? -1);
    }),
  );
  // Avoid an unhandled rejection when nobody awaits hello.
  hello.catch(() => {});
  const lines = () =>
    out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { proc, hello, lines, exited, stderr: () => err };
}

/** Runs a sender to completion; fails loudly if it crashed. */
export async function runSender(
  runtime: Runtime, socket: string, plan: Plan, as: SenderIdentity = {},
): Promise<{ pid: number; exe: string; lines: Array<Record<string, unknown>> }> {
  const h = spawnSender(runtime, socket, plan, as);
  const code = await h.exited;
  if (code !== 0) throw new Error(`sender exited with ${code}: ${h.stderr()}`);
  const lines = h.lines();
  const hello = lines[0] as { pid: number; exe: string };
  return { pid: hello.pid, exe: hello.exe, lines };
}

export function validFrame(session: string, i: number, extra: Record<string, Json> = {}): Record<string, Json> {
  return {
    v: "1",
    ts_emit: new Date().toISOString(),
    session_id: session,
    channel: "sdk",
    tool: { name: "write_file" },
    decision: "allowed",
    input: { session, i },
    ...extra,
  };
}

/** A plan that sends `frames` in one write per frame, half-closes and waits for the daemon's close. */
export function sendAndConfirm(frames: Array<Record<string, Json>>, mode: "each" | "one" | "byte" = "each"): Plan {
  return { steps: [{ op: "frames", frames, mode }, { op: "end" }, { op: "waitClose" }] };
}

// ---------------------------------------------------------------- database

export interface Receipt {
  id: string;
  issuer: { id: string; type: string; session_id?: string; runtime?: Record<string, Json>; [k: string]: unknown };
  credentialSubject: {
    principal: { id: string };
    action: {
      type: string;
      tool_name: string;
      risk_level: string;
      parameters_hash?: string;
      peer_credential?: { platform: string; pid: number; uid: number; gid: number; exe_path?: string };
      emitter_metadata?: { drop_count: number };
      [k: string]: unknown;
    };
    outcome: { status: string; error?: string; response_hash?: string };
    chain: { sequence: number; previous_receipt_hash: string | null; chain_id: string; terminal?: boolean; status?: string };
    delegation?: { parent_chain_id: string; parent_receipt_id: string; delegator: { id: string } };
    [k: string]: unknown;
  };
  proof: Record<string, string>;
  [k: string]: unknown;
}

export interface Row {
  id: string;
  chain_id: string;
  sequence: number;
  receipt_hash: string;
  previous_receipt_hash: string | null;
  receipt: Receipt;
}

/** Every receipt, read through a fresh read-only connection, ordered by chain then sequence. */
export function readReceipts(db: string, chainId?: string): Row[] {
  const conn = new Database(db, { readonly: true });
  try {
    const sql = "SELECT id, chain_id, sequence, receipt_hash, previous_receipt_hash, receipt_json FROM receipts" +
      (chainId === undefined ? "" : " WHERE chain_id = ?") + " ORDER BY chain_id, sequence";
    const rows = (chainId === undefined ? conn.query(sql).all() : conn.query(sql).all(chainId)) as Array<Omit<Row, "receipt"> & { receipt_json: string }>;
    return rows.map(({ receipt_json, ...r }) => ({ ...r, receipt: JSON.parse(receipt_json) as Receipt }));
  } finally {
    conn.close();
  }
}

export function countReceipts(db: string): number {
  const conn = new Database(db, { readonly: true });
  try {
    return (conn.query("SELECT count(*) AS n FROM receipts").get() as { n: number }).n;
  } finally {
    conn.close();
  }
}

/** Waits until `check` passes (polling the database), or throws with the last state. */
export async function waitFor<T>(what: string, probe: () => T, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 500)}`);
    await Bun.sleep(20);
    last = probe();
  }
  return last;
}

/** Asserts one well-formed chain: sequences 1..n, each previous hash the prior receipt hash. */
export function chainProblems(rows: Row[]): string[] {
  const problems: string[] = [];
  rows.forEach((r, i) => {
    const c = r.receipt.credentialSubject.chain;
    if (r.sequence !== i + 1 || c.sequence !== i + 1) problems.push(`index ${i}: sequence ${r.sequence}/${c.sequence}`);
    const prev = i === 0 ? null : rows[i - 1]!.receipt_hash;
    if (c.previous_receipt_hash !== prev || r.previous_receipt_hash !== prev) problems.push(`index ${i}: previous hash ${c.previous_receipt_hash} != ${prev}`);
    if (c.chain_id !== r.chain_id) problems.push(`index ${i}: chain_id ${c.chain_id} != row ${r.chain_id}`);
  });
  return problems;
}

// ---------------------------------------------------------------- processes

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The test's environment without any AGENTRECEIPTS_* variable, and a private data home. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env, XDG_DATA_HOME: tempDir("ar-xdg-") };
  for (const k of Object.keys(env)) if (k.startsWith("AGENTRECEIPTS_")) delete env[k];
  Object.assign(env, extra);
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

export function runCli(args: string[], env: Record<string, string | undefined> = {}, opts: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(BINARY, args, { env: cleanEnv(env), encoding: "utf8", timeout: opts.timeoutMs ?? 20_000, cwd: opts.cwd });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface VerifyResult {
  code: number;
  report: { valid: boolean; chains: Array<{ chain_id: string; valid: boolean; count: number; status: string; retries: number; break?: unknown }> };
  stderr: string;
}

export function verify(db: string, publicKey: string): VerifyResult {
  const r = runCli(["verify", "--db", db, "--public-key", publicKey, "--json"]);
  let report: VerifyResult["report"];
  try {
    report = JSON.parse(r.stdout) as VerifyResult["report"];
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  // Chains sorted by id, so tests do not depend on the verifier's output order.
  report.chains?.sort((a, b) => (a.chain_id < b.chain_id ? -1 : a.chain_id > b.chain_id ? 1 : 0));
  return { code: r.code, report, stderr: r.stderr };
}

/** Starts `agent-receipts daemon <args>` with a clean environment (see cleanEnv). */
export function launchDaemon(
  args: string[], env: Record<string, string | undefined> = {}, opts: { cwd?: string; timeoutMs?: number; wrap?: string[] } = {},
): Promise<Launched & { listening: boolean }> {
  return launchWith(args, cleanEnv(env), opts);
}

export type { Launched };
/** A payload hash computed independently of the project's code: node:crypto over the `canonicalize` package (RFC 8785). */
export function expectedHash(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error("value has no JCS form");
  return `sha256:${createHash("sha256").update(text, "utf8").digest("hex")}`;
}

/** Daemons started by one test file, all killed (with its senders) by stopAll() in afterAll. */
export function daemonTracker(): { start(opts?: StartOptions): Promise<DaemonHandle>; stopAll(): Promise<void> } {
  const started: DaemonHandle[] = [];
  return {
    async start(opts = {}) {
      const d = await startDaemon(opts);
      started.push(d);
      return d;
    },
    async stopAll() {
      killSenders();
      for (const d of started) await d.stop("SIGKILL");
    },
  };
}

export { tempDir };
