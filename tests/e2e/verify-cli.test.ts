// `agent-receipts verify` through the compiled binary, as a separate process,
// on real SQLite files made by the chain writer and then tampered with plain SQL.
import { test, expect, describe, afterAll } from "bun:test";
import { Database } from "bun:sqlite";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalReceipt, receiptHash } from "../../src/receipt/canonical.ts";
import { generateKeyPair, parsePrivateKey, signBytes } from "../../src/receipt/keys.ts";
import { encodeProofValue } from "../../src/receipt/proof.ts";
import type { SignedReceipt } from "../../src/receipt/types.ts";
import { BINARY, makeChainDb, ROOT, tempDir, writeKeyFiles, type KeyFiles } from "../helpers/fixtures.ts";
import { spawnWriter } from "../helpers/live-writer-process.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run "npm run build" first`);
  const home = tempDir("ar-home-");
  dirs.push(home);
  const proc = Bun.spawn([BINARY, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_DATA_HOME: join(home, "data"), ...env },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

function verify(db: string, key: string, ...extra: string[]): Promise<Run> {
  return run(["verify", "--db", db, "--public-key", key, ...extra]);
}

interface Fixture {
  dir: string;
  db: string;
  keys: KeyFiles;
  chainId: string;
}

/** A fresh database with one chain of `count` event receipts (+ terminator when asked). */
function fixture(count: number, terminate = false, chainId = "test-chain"): Fixture {
  const dir = tempDir("ar-e2e-verify-");
  dirs.push(dir);
  const keys = writeKeyFiles(dir);
  const db = join(dir, "receipts.db");
  const id = makeChainDb(db, keys.privateKeyPem, count, { chainId, terminate, batch: 4 });
  return { dir, db, keys, chainId: id };
}

function readRow(db: string, chainId: string, sequence: number): { json: string; receipt: SignedReceipt; hash: string } {
  const d = new Database(db, { readonly: true });
  try {
    const row = d.query<{ receipt_json: string; receipt_hash: string }, [string, number]>(
      "SELECT receipt_json, receipt_hash FROM receipts WHERE chain_id = ? AND sequence = ?",
    ).get(chainId, sequence)!;
    return { json: row.receipt_json, receipt: JSON.parse(row.receipt_json) as SignedReceipt, hash: row.receipt_hash };
  } finally {
    d.close();
  }
}

function sql(db: string, statement: string, ...params: Array<string | number | null>): void {
  const d = new Database(db);
  try {
    d.query(statement).run(...params);
  } finally {
    d.close();
  }
}

function setJson(db: string, chainId: string, sequence: number, json: string): void {
  sql(db, "UPDATE receipts SET receipt_json = ? WHERE chain_id = ? AND sequence = ?", json, chainId, sequence);
}

/** Signs a (modified) receipt again with `privateKeyPem`, keeping every other proof field. */
function resign(receipt: SignedReceipt, privateKeyPem: string): SignedReceipt {
  const sig = signBytes(parsePrivateKey(privateKeyPem), canonicalReceipt(receipt));
  return { ...receipt, proof: { ...receipt.proof, proofValue: encodeProofValue(sig) } };
}

function parseJson(r: Run): {
  valid: boolean;
  chains: Array<{ chain_id: string; valid: boolean; count: number; status: string; retries: number; break?: { index: number; sequence: number | null; reason: string; reasons: string[] } }>;
} {
  return JSON.parse(r.stdout);
}

const STACK_LINE = /^\s+at\s/m;

describe("verify: valid and tampered databases", () => {
  test("a valid terminated chain: exit 0, VALID, count and status", async () => {
    const f = fixture(12, true);
    const r = await verify(f.db, f.keys.publicKey);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("VALID");
    expect(r.stdout).not.toContain("BROKEN");
    expect(r.stdout).toMatch(new RegExp(`chain ${f.chainId}\\s+13 receipts\\s+status: interrupted`));
  });

  test("a field edited inside receipt_json: exit 1, bad signature at that index", async () => {
    const f = fixture(10);
    const { receipt } = readRow(f.db, f.chainId, 4);
    receipt.credentialSubject.action.tool_name = "delete_everything";
    setJson(f.db, f.chainId, 4, JSON.stringify(receipt));
    const r = await verify(f.db, f.keys.publicKey);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("BROKEN");
    expect(r.stdout).toMatch(/break at index 3 \(sequence 4,[^)]*\): bad signature/);
    const j = parseJson(await verify(f.db, f.keys.publicKey, "--json"));
    expect(j.valid).toBe(false);
    expect(j.chains[0]!.break).toMatchObject({ index: 3, sequence: 4, reason: "bad_signature" });
    expect(j.chains[0]!.count).toBe(10);
  });

  test("an edit of the stored text that keeps the JSON value (whitespace, key order) still verifies", async () => {
    const f = fixture(5);
    const { receipt } = readRow(f.db, f.chainId, 3);
    const reordered = Object.fromEntries(Object.entries(receipt).reverse());
    setJson(f.db, f.chainId, 3, JSON.stringify(reordered, null, 2));
    const r = await verify(f.db, f.keys.publicKey);
    expect(r.code).toBe(0);
  });

  test("a row deleted in the middle: exit 1 at that index, broken hash link and sequence gap", async () => {
    const f = fixture(10);
    sql(f.db, "DELETE FROM receipts WHERE chain_id = ? AND sequence = 5", f.chainId);
    const r = await verify(f.db, f.keys.publicKey);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/break at index 4 \(sequence 6,[^)]*\): (broken hash link|sequence gap)/);
    const j = parseJson(await verify(f.db, f.keys.publicKey, "--json"));
    expect(j.chains[0]!.break!.index).toBe(4);
    expect(j.chains[0]!.break!.reasons).toEqual(expect.arrayContaining(["broken_hash_link", "sequence_gap"]));
    expect(j.chains[0]!.count).toBe(9);
  });

  test("two rows swapped (receipt_json exchanged): exit 1 at the first swapped index", async () => {
    const f = fixture(10);
    const a = readRow(f.db, f.chainId, 6);
    const b = readRow(f.db, f.chainId, 7);
    setJson(f.db, f.chainId, 6, b.json);
    setJson(f.db, f.chainId, 7, a.json);
    const r = await verify(f.db, f.keys.publicKey);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/break at index 5 /);
    const j = parseJson(await verify(f.db, f.keys.publicKey, "--json"));
    expect(j.chains[0]!.break!.index).toBe(5);
    expect(j.chains[0]!.break!.reasons).toContain("broken_hash_link");
  });

  test("a receipt re-signed with another key: exit 1, bad signature", async () => {
    const f = fixture(8);
    const { receipt } = readRow(f.db, f.chainId, 3);
    setJson(f.db, f.chainId, 3, JSON.stringify(resign(receipt, generateKeyPair().privateKeyPem)));
    const r = await verify(f.db, f.keys.publicKey);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/break at index 2 \(sequence 3,[^)]*\): bad signature/);
  });

  test("a wrong previous hash re-signed with the right key: exit 1, only the hash link is broken", async () => {
    const f = fixture(8);
    const { receipt } = readRow(f.db, f.chainId, 5);
    const other = readRow(f.db, f.chainId, 2);
    receipt.credentialSubject.chain.previous_receipt_hash = other.hash;
    const resigned = resign(receipt, f.keys.privateKeyPem);
    setJson(f.db, f.chainId, 5, JSON.stringify(resigned));
    // Whoever holds the key also keeps the row's index columns in step with what they signed.
    sql(f.db, "UPDATE receipts SET receipt_hash = ?, previous_receipt_hash = ? WHERE chain_id = ? AND sequence = 5", receiptHash(resigned), other.hash, f.chainId);
    const r = await verify(f.db, f.keys.publicKey);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/break at index 4 \(sequence 5,[^)]*\): broken hash link\n/);
    expect(r.stdout).not.toContain("bad signature");
    const j = parseJson(await verify(f.db, f.keys.publicKey, "--json"));
    expect(j.chains[0]!.break).toMatchObject({ index: 4, reason: "broken_hash_link", reasons: ["broken_hash_link"] });
  });

  test("a correctly linked and signed receipt after the terminal one: exit 1, receipt after terminal", async () => {
    const f = fixture(6, true);
    const terminator = readRow(f.db, f.chainId, 7);
    expect(terminator.receipt.credentialSubject.chain.terminal).toBe(true);
    const { receipt } = readRow(f.db, f.chainId, 6);
    receipt.id = "urn:receipt:00000000-0000-4000-8000-000000000008";
    receipt.credentialSubject.chain.sequence = 8;
    receipt.credentialSubject.chain.previous_receipt_hash = terminator.hash;
    expect(receiptHash(terminator.receipt)).toBe(terminator.hash);
    const appended = resign(receipt, f.keys.privateKeyPem);
    const c = appended.credentialSubject;
    sql(
      f.db,
      `INSERT INTO receipts (id, chain_id, sequence, action_type, tool_name, risk_level, status, timestamp, issuer_id, principal_id,
         receipt_json, receipt_hash, previous_receipt_hash) VALUES (?, ?, 8, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      appended.id, f.chainId, c.action.type, c.action.tool_name ?? "", c.action.risk_level, c.outcome.status, appended.issuanceDate,
      appended.issuer.id, c.principal.id, JSON.stringify(appended), receiptHash(appended), terminator.hash,
    );
    const r = await verify(f.db, f.keys.publicKey);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/break at index 7 \(sequence 8,[^)]*\): receipt after terminal\n/);
    const j = parseJson(await verify(f.db, f.keys.publicKey, "--json"));
    expect(j.chains[0]!.break).toMatchObject({ index: 7, reason: "receipt_after_terminal", reasons: ["receipt_after_terminal"] });
  });

  test("a truncated tail (terminator and more deleted) in a database without the transparency log: exit 0, status unknown, tail completeness not proven", async () => {
    const f = fixture(10, true);
    // A database written before the log (issue 12) has no log tables: the chains alone cannot show a cut-off tail.
    sql(f.db, "DROP TABLE tlog_tiles");
    sql(f.db, "DROP TABLE tlog_runs");
    sql(f.db, "DROP TABLE tlog_checkpoints");
    sql(f.db, "DROP TABLE tlog_cosignatures");
    const before = await verify(f.db, f.keys.publicKey);
    expect(before.stdout).toContain("status: interrupted");
    sql(f.db, "DELETE FROM receipts WHERE chain_id = ? AND sequence > 7", f.chainId);
    const r = await verify(f.db, f.keys.publicKey);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/VALID\s+chain test-chain\s+7 receipts\s+status: unknown/);
    expect(r.stdout).toContain("tail completeness not proven");
    const j = parseJson(await verify(f.db, f.keys.publicKey, "--json"));
    expect(j.chains[0]).toMatchObject({ valid: true, count: 7, status: "unknown" });
  });

  test("the same truncated tail with the transparency log: the tree still has the deleted receipts' leaves, exit 1, TRUNCATED", async () => {
    const f = fixture(10, true);
    sql(f.db, "DELETE FROM receipts WHERE chain_id = ? AND sequence > 7", f.chainId);
    const r = await verify(f.db, f.keys.publicKey);
    expect(r.code).toBe(1);
    // The chain alone still looks valid; the log says what happened.
    expect(r.stdout).toMatch(/VALID\s+chain test-chain\s+7 receipts\s+status: unknown/);
    // 10 events and the terminator were leaves 0..10; sequences 8..11 were leaves 7..10.
    expect(r.stdout).toContain("4 receipt(s) of leaves 7..10 are missing");
    expect(r.stdout).toMatch(/\nTRUNCATED  [^\n]*\n$/);
  });

  test("several chains in one database: all reported, --json parses and lists every chain, --chain selects one", async () => {
    const f = fixture(5, true, "alpha");
    makeChainDb(f.db, f.keys.privateKeyPem, 3, { chainId: "beta" });
    makeChainDb(f.db, f.keys.privateKeyPem, 4, { chainId: "gamma", terminate: true });
    // Break beta only.
    const { receipt } = readRow(f.db, "beta", 2);
    receipt.credentialSubject.outcome.status = "failure";
    setJson(f.db, "beta", 2, JSON.stringify(receipt));
    const human = await verify(f.db, f.keys.publicKey);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/VALID\s+chain alpha\s+6 receipts/);
    expect(human.stdout).toMatch(/BROKEN\s+chain beta\s+3 receipts/);
    expect(human.stdout).toMatch(/VALID\s+chain gamma\s+5 receipts/);
    expect(human.stdout).toContain("1 of 3 chain(s) BROKEN");
    const j = parseJson(await verify(f.db, f.keys.publicKey, "--json"));
    expect(j.valid).toBe(false);
    expect(j.chains.map((c) => [c.chain_id, c.valid, c.count, c.status])).toEqual([
      ["alpha", true, 6, "interrupted"],
      ["beta", false, 3, "unknown"],
      ["gamma", true, 5, "interrupted"],
    ]);
    expect(j.chains[1]!.break).toMatchObject({ index: 1, reason: "bad_signature" });
    const only = await verify(f.db, f.keys.publicKey, "--chain", "gamma", "--json");
    expect(only.code).toBe(0);
    expect(parseJson(only).chains.map((c) => c.chain_id)).toEqual(["gamma"]);
    const onlyBroken = await verify(f.db, f.keys.publicKey, "--chain", "beta");
    expect(onlyBroken.code).toBe(1);
  });

  test("the wrong public key: no receipt verifies, so the key does not match (exit 2), not a broken chain", async () => {
    const f = fixture(3);
    const other = join(f.dir, "other.pub");
    writeFileSync(other, generateKeyPair().publicKeyPem);
    const r = await verify(f.db, other);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/WRONG KEY\s+chain test-chain\s+3 receipts: none verifies under this key/);
    expect(r.stdout).not.toContain("BROKEN");
    expect(r.stderr).toMatch(/does not match the receipts: no receipt of chain test-chain \(3 receipts\) verifies under it/);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  });
});

describe("verify --file (JSON Lines)", () => {
  function exportLines(f: Fixture, chainId = f.chainId): string[] {
    const d = new Database(f.db, { readonly: true });
    try {
      return d.query<{ receipt_json: string }, [string]>("SELECT receipt_json FROM receipts WHERE chain_id = ? ORDER BY sequence").all(chainId).map((r) => r.receipt_json);
    } finally {
      d.close();
    }
  }

  test("a valid export verifies; a tampered line breaks it at that index", async () => {
    const f = fixture(9, true);
    const lines = exportLines(f);
    expect(lines.length).toBe(10);
    const file = join(f.dir, "export.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const ok = await run(["verify", "--file", file, "--public-key", f.keys.publicKey]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`VALID\\s+chain ${f.chainId}\\s+10 receipts\\s+status: interrupted`));
    const okJson = await run(["verify", "--file", file, "--public-key", f.keys.publicKey, "--json"]);
    expect(parseJson(okJson).chains).toEqual([{ chain_id: f.chainId, valid: true, count: 10, status: "interrupted", retries: 0 }]);

    const tampered = [...lines];
    const r6 = JSON.parse(tampered[6]!) as SignedReceipt;
    r6.credentialSubject.principal.id = "did:user:mallory";
    tampered[6] = JSON.stringify(r6);
    const bad = join(f.dir, "tampered.jsonl");
    writeFileSync(bad, `${tampered.join("\n")}\n`);
    const r = await run(["verify", "--file", bad, "--public-key", f.keys.publicKey]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/break at index 6 \(sequence 7,[^)]*\): bad signature/);

    const dropped = join(f.dir, "dropped.jsonl");
    writeFileSync(dropped, `${[...lines.slice(0, 3), ...lines.slice(4)].join("\n")}\n`);
    const d = await run(["verify", "--file", dropped, "--public-key", f.keys.publicKey, "--json"]);
    expect(d.code).toBe(1);
    expect(parseJson(d).chains[0]!.break!.index).toBe(3);
  });

  test("a missing file: exit 2 naming it", async () => {
    const f = fixture(1);
    const missing = join(f.dir, "nope.jsonl");
    const r = await run(["verify", "--file", missing, "--public-key", f.keys.publicKey]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });
});

describe("verify: usage and I/O problems exit 2 with a message and no stack trace", () => {
  const f = fixture(3);

  async function expectUsageError(args: string[], ...mentions: Array<string | RegExp>): Promise<void> {
    const r = await run(args);
    expect({ args, code: r.code }).toEqual({ args, code: 2 });
    expect(r.stdout).toBe("");
    for (const m of mentions) {
      if (typeof m === "string") expect(r.stderr).toContain(m);
      else expect(r.stderr).toMatch(m);
    }
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).not.toContain("unexpected error");
  }

  test("missing database", async () => {
    const db = join(f.dir, "missing.db");
    await expectUsageError(["verify", "--db", db, "--public-key", f.keys.publicKey], db, "does not exist");
    expect(existsSync(db)).toBe(false);
  });

  test("a file that is not a receipts database", async () => {
    const db = join(f.dir, "junk.db");
    writeFileSync(db, "definitely not an sqlite database, but long enough to have a header. ".repeat(4));
    await expectUsageError(["verify", "--db", db, "--public-key", f.keys.publicKey], db);
  });

  test("missing public key", async () => {
    const key = join(f.dir, "missing.pub");
    await expectUsageError(["verify", "--db", f.db, "--public-key", key], key, "does not exist");
  });

  test("a public key that is not PEM", async () => {
    const key = join(f.dir, "garbage.pub");
    writeFileSync(key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9 user@host\n");
    await expectUsageError(["verify", "--db", f.db, "--public-key", key], key, "not an Ed25519 SPKI PEM");
  });

  test("an RSA SPKI PEM public key", async () => {
    const key = join(f.dir, "rsa.pub");
    writeFileSync(key, generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }).toString());
    await expectUsageError(["verify", "--db", f.db, "--public-key", key], key, /rsa/i);
  });

  test("an X25519 SPKI PEM public key", async () => {
    const key = join(f.dir, "x25519.pub");
    writeFileSync(key, generateKeyPairSync("x25519").publicKey.export({ type: "spki", format: "pem" }).toString());
    await expectUsageError(["verify", "--db", f.db, "--public-key", key], key, /x25519/i);
  });

  test("the private key given as the public key", async () => {
    await expectUsageError(["verify", "--db", f.db, "--public-key", f.keys.key], f.keys.key, "not an Ed25519 SPKI PEM");
  });

  test("unknown --chain", async () => {
    await expectUsageError(["verify", "--db", f.db, "--public-key", f.keys.publicKey, "--chain", "no-such-chain"], "no-such-chain", f.chainId);
  });

  test("--db and --file together, and an unknown option", async () => {
    await expectUsageError(["verify", "--db", f.db, "--file", "x.jsonl", "--public-key", f.keys.publicKey], "--db and --file");
    await expectUsageError(["verify", "--db", f.db, "--public-key", f.keys.publicKey, "--bogus"], "--bogus");
  });
});

describe("top-level CLI", () => {
  test("--help and --version exit 0", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("verify");
    const verifyHelp = await run(["verify", "--help"]);
    expect(verifyHelp.code).toBe(0);
    expect(verifyHelp.stdout).toContain("--public-key");
    const version = await run(["--version"]);
    expect(version.code).toBe(0);
    const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  test("an unknown command exits 2 with one line on stderr that points at --help", async () => {
    const r = await run(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("frobnicate");
    expect(r.stderr).toContain('"agent-receipts --help"');
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });
});

describe("verify while another process writes (WAL)", () => {
  test("exit 0 on a database a live writer holds open and keeps inserting into", async () => {
    const dir = tempDir("ar-e2e-live-");
    dirs.push(dir);
    const keys = writeKeyFiles(dir);
    const db = join(dir, "receipts.db");
    const child = spawnWriter(db, keys.key, "live", 25, 2);
    const committed = () => child.committed();
    try {
      await child.waitFor(/committed ([5-9]\d\d|\d{4,})\n/);
      const atStart = committed();
      const r = await verify(db, keys.publicKey, "--json");
      const atEnd = committed();
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const j = parseJson(r);
      expect(j.chains.length).toBe(1);
      expect(j.chains[0]!.valid).toBe(true);
      expect(j.chains[0]!.status).toBe("unknown");
      expect(j.chains[0]!.count).toBeGreaterThanOrEqual(atStart);
      // The writer really was writing during the verification.
      expect(atEnd).toBeGreaterThan(atStart);
      expect(child.proc.exitCode).toBeNull();
    } finally {
      child.proc.kill("SIGTERM");
    }
    const closed = await child.waitFor(/closed (\d+)\n/);
    expect(await child.proc.exited).toBe(0);
    const after = await verify(db, keys.publicKey, "--json");
    expect(after.code).toBe(0);
    expect(parseJson(after).chains[0]!.count).toBe(Number(closed[1]));
  });
});
