// Runs `agent-receipts verify` (the compiled binary, a separate process) and
// edits test databases with plain SQL, as someone with write access would.
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { BINARY, makeChainDb, tempDir, writeKeyFiles, type KeyFiles } from "./fixtures.ts";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const made: string[] = [];

/** A temporary directory removed by removeTempDirs(). */
export function scratchDir(prefix: string): string {
  const dir = tempDir(prefix);
  made.push(dir);
  return dir;
}

/** For afterAll: removes every directory this module made. */
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** The binary with a clean environment and an empty home, so no default path leaks in. */
export function cli(args: string[]): CliRun {
  const home = scratchDir("ar-home-");
  const r = spawnSync(BINARY, args, {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_DATA_HOME: join(home, "data") },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function verifyDb(db: string, publicKey: string, ...extra: string[]): CliRun {
  return cli(["verify", "--db", db, "--public-key", publicKey, ...extra]);
}

/** verify --json, parsed; throws with the output when there is no JSON. */
export function verifyJson<T = VerifyJsonOut>(db: string, publicKey: string, ...extra: string[]): T & { code: number; stderr: string } {
  const r = verifyDb(db, publicKey, "--json", ...extra);
  try {
    return { ...(JSON.parse(r.stdout) as T), code: r.code, stderr: r.stderr };
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** The parts of verify --json that the tests read. */
export interface VerifyJsonOut {
  valid: boolean;
  key_mismatch: boolean;
  public_key: { path: string; fingerprint: string };
  chains: Array<{
    chain_id: string;
    valid: boolean;
    count: number;
    status: string;
    retries: number;
    break?: { index: number; sequence: number | null; receipt_id: string; reason: string; reasons: string[]; detail: string; columns?: string[] };
    key_mismatch?: { verification_method: string | null; fingerprint: string | null };
  }>;
  retries: { count: number; groups: Array<{ idempotency_key: string; stage: string; receipts: Array<{ chain_id: string; sequence: number }> }> };
}

export function sql(db: string, statement: string, ...params: Array<string | number | null>): void {
  const d = new Database(db);
  try {
    d.query(statement).run(...params);
  } finally {
    d.close();
  }
}

export interface ChainFixture {
  dir: string;
  db: string;
  keys: KeyFiles;
  chainId: string;
}

/** A fresh database with one chain written by the project's chain writer. */
export function chainFixture(count: number, options: Parameters<typeof makeChainDb>[3] = {}): ChainFixture {
  const dir = scratchDir("ar-e2e-");
  const keys = writeKeyFiles(dir);
  const db = join(dir, "receipts.db");
  const chainId = makeChainDb(db, keys.privateKeyPem, count, { batch: 4, ...options });
  return { dir, db, keys, chainId };
}

/** Receipt JSON lines of a chain, as an export would hold them. */
export function exportLines(db: string, chainId: string): string[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.query<{ receipt_json: string }, [string]>("SELECT receipt_json FROM receipts WHERE chain_id = ? ORDER BY sequence").all(chainId).map((r) => r.receipt_json);
  } finally {
    d.close();
  }
}

export const STACK_LINE = /^\s+at\s/m;
