// Attacks on the record that the transparency log makes evident (issue 12),
// through the compiled daemon and verify: whoever can write the database
// deletes the newest receipts and checkpoints, or rewrites a receipt and
// rebuilds the tree, and verify, holding a checkpoint kept elsewhere, says
// TRUNCATED or FORKED with the sizes and roots; tampered tree tables are
// reported and never turned into a proof; witness cosignatures on a kept
// checkpoint are counted against --witness and --quorum.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, tempDir } from "../helpers/fixtures.ts";
import { daemonTracker, runCli } from "../daemon/support.ts";
import type { DaemonHandle } from "../helpers/daemon.ts";
import { generateKeyPair, parsePrivateKey, parsePublicKey, rawPublicKey, signBytes } from "../../src/receipt/keys.ts";
import { cosignatureSigner, cosignatureVerifierKey } from "../../src/tlog/cosignature.ts";
import { checkpointTextOf } from "../../src/tlog/checkpoint.ts";

const daemons = daemonTracker();
afterAll(() => daemons.stopAll());

function config(dir: string): string {
  const path = join(dir, "daemon.toml");
  writeFileSync(path, 'checkpoint_every = 40\ncheckpoint_interval = "60s"\nlog_origin = "attack.test/log"\n');
  return path;
}

async function start(dir: string): Promise<DaemonHandle> {
  return daemons.start({ dir, args: ["--config", config(dir), "--chain-id", "victim"] });
}

function emit(d: DaemonHandle, count: number, from = 0): void {
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ tool: { name: "Bash" }, decision: "allowed", input: { n: from + i } })).join("\n");
  const r = spawnSync(BINARY, ["emit", "--stdin", "--socket", d.socket], { input: `${lines}\n`, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`emit failed (${r.status}): ${r.stderr}`);
}

function sql(db: string, ...statements: string[]): void {
  const conn = new Database(db);
  try {
    for (const s of statements) conn.run(s);
  } finally {
    conn.close();
  }
}

function count(db: string, table: string): number {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.query<{ n: number }, []>(`SELECT COUNT(*) AS n FROM ${table}`).get()!.n;
  } finally {
    conn.close();
  }
}

/** The newest checkpoint as `agent-receipts checkpoint` prints it: the copy an auditor keeps. */
function keepCheckpoint(d: DaemonHandle, dir: string): { path: string; size: number } {
  const r = runCli(["checkpoint", "--db", d.db]);
  expect(r.code).toBe(0);
  const path = join(dir, "kept-checkpoint");
  writeFileSync(path, r.stdout);
  return { path, size: Number(r.stdout.split("\n")[1]) };
}

function verifyWith(d: DaemonHandle, ...extra: string[]) {
  return runCli(["verify", "--db", d.db, "--public-key", d.publicKey, ...extra], {}, { timeoutMs: 60_000 });
}

const DROP_LOG = ["DROP TABLE tlog_tiles", "DROP TABLE tlog_runs", "DROP TABLE tlog_checkpoints", "DROP TABLE tlog_cosignatures"];

describe("truncation", () => {
  test("the last 10 receipts and the newest checkpoint rows deleted: verify --checkpoint <copy taken earlier> says TRUNCATED, exit 1", async () => {
    const dir = tempDir("ar-tlog-trunc-");
    const d = await start(dir);
    emit(d, 150);
    expect(await d.stop()).toBe(0);
    const kept = keepCheckpoint(d, dir);
    expect(kept.size).toBe(151); // 150 events and the terminator
    expect(verifyWith(d, "--checkpoint", kept.path).code).toBe(0);
    // The attacker: the newest 10 receipts and every checkpoint that covered them.
    sql(d.db, "DELETE FROM receipts WHERE rowid > (SELECT MAX(rowid) FROM receipts) - 10", "DELETE FROM tlog_checkpoints WHERE size > 141");
    const r = verifyWith(d, "--checkpoint", kept.path);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`TRUNCATED  checkpoint ${kept.path} (size 151, root `);
    expect(r.stdout).toContain("it covers 151 receipts; the database holds 141 (root ");
    const j = JSON.parse(verifyWith(d, "--checkpoint", kept.path, "--json").stdout) as { valid: boolean; log: { verdict: string; external: Array<{ state: string; size: number }> } };
    expect(j.valid).toBe(false);
    expect(j.log.verdict).toBe("truncated");
    expect(j.log.external).toMatchObject([{ state: "truncated", size: 151 }]);
  }, 60_000);

  test("...and the tree tables rebuilt by restarting the daemon on what is left: still TRUNCATED against the copy", async () => {
    const dir = tempDir("ar-tlog-trunc2-");
    let d = await start(dir);
    emit(d, 120);
    expect(await d.stop()).toBe(0);
    const kept = keepCheckpoint(d, dir);
    sql(d.db, "DELETE FROM receipts WHERE rowid > (SELECT MAX(rowid) FROM receipts) - 10", ...DROP_LOG);
    // A fresh start gives the remaining receipts new leaves and signs new checkpoints: a self-consistent, shorter log.
    d = await start(dir);
    expect(d.logs().find((l) => l.event === "tlog_backfilled")).toMatchObject({ leaves: 111, from_size: 0 });
    expect(await d.stop()).toBe(0);
    expect(verifyWith(d).code).toBe(0); // on its own, the database holds together
    const r = verifyWith(d, "--checkpoint", kept.path);
    expect(r.code).toBe(1);
    // 111 receipts left plus the terminator of the restart: still short of the 121 the copy covers.
    expect(r.stdout).toContain("it covers 121 receipts; the database holds 112 (root ");
    expect(r.stdout).toMatch(/\nTRUNCATED  receipts a checkpoint covers are missing from the database \(exit 1\)\n$/);
  }, 60_000);

  test("receipts deleted while the daemon is stopped: its next start says so, whether the tree was left longer or rebuilt shorter than the newest checkpoint", async () => {
    const dir = tempDir("ar-tlog-trunc3-");
    let d = await start(dir);
    emit(d, 60);
    expect(await d.stop()).toBe(0);
    const problems = () => d.logs().filter((l) => l.event === "tlog_inconsistent").map((l) => String(l.problem)).join("\n");
    sql(d.db, "DELETE FROM receipts WHERE rowid > (SELECT MAX(rowid) FROM receipts) - 5");
    d = await start(dir);
    expect(problems()).toContain("the last leaf of the tree is not the receipt committed last");
    expect(await d.stop()).toBe(0);
    sql(d.db, "DELETE FROM receipts WHERE rowid > (SELECT MAX(rowid) FROM receipts) - 5", "DELETE FROM tlog_tiles", "DELETE FROM tlog_runs");
    d = await start(dir);
    expect(problems()).toContain("newest checkpoint covers");
    expect(await d.stop()).toBe(0);
  }, 60_000);
});

describe("rewriting", () => {
  test("a middle receipt rewritten and the tree tables rebuilt: verify --checkpoint <copy> says FORKED with both roots, exit 1", async () => {
    const dir = tempDir("ar-tlog-fork-");
    let d = await start(dir);
    emit(d, 100);
    expect(await d.stop()).toBe(0);
    const kept = keepCheckpoint(d, dir);
    // The attacker changes what receipt 50 says (its hash column follows) and rebuilds the log from the receipts.
    const conn = new Database(d.db);
    const row = conn.query<{ receipt_json: string }, []>("SELECT receipt_json FROM receipts WHERE rowid = 50").get()!;
    const edited = row.receipt_json.replace('"Bash"', '"Read"');
    expect(edited).not.toBe(row.receipt_json);
    conn.run("UPDATE receipts SET receipt_json = ?, receipt_hash = ? WHERE rowid = 50", [edited, `sha256:${"ab".repeat(32)}`]);
    for (const s of DROP_LOG) conn.run(s);
    conn.close();
    d = await start(dir);
    expect(await d.stop()).toBe(0);
    const r = verifyWith(d, "--checkpoint", kept.path);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FORKED  checkpoint \S+ \(size 101, root [A-Za-z0-9+/=]{44}\): its root is [A-Za-z0-9+/=]{44}; the database's receipts give [A-Za-z0-9+/=]{44} at size 101/);
    expect(r.stdout).toMatch(/\nFORKED  the database's receipts do not give a checkpoint's root: the log was rewritten \(exit 1\)\n$/);
  }, 60_000);

  test("tree tables altered by hand: verify reports the mismatch (exit 1) and prove refuses to hand out a proof", async () => {
    const dir = tempDir("ar-tlog-tiles-");
    const d = await start(dir);
    emit(d, 70);
    expect(await d.stop()).toBe(0);
    expect(runCli(["prove", "victim:3", "--db", d.db]).code).toBe(0);
    // A level-1 tile (hashes of 16 leaves each): the leaves still match their receipts, the upper level does not.
    sql(d.db, `UPDATE tlog_tiles SET hashes = zeroblob(length(hashes)) WHERE level = 1`);
    const r = verifyWith(d);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("the stored tree's upper levels do not give the receipts' root");
    const p = runCli(["prove", "victim:3", "--db", d.db]);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain("the stored tree's root differs from the checkpoint's");
    expect(p.stdout).toBe("");
  }, 60_000);
});

describe("witness cosignatures on a kept checkpoint", () => {
  test("--witness and --quorum count only cosignatures that verify with the given keys", async () => {
    const dir = tempDir("ar-tlog-wit-");
    const d = await start(dir);
    emit(d, 30);
    expect(await d.stop()).toBe(0);
    const kept = keepCheckpoint(d, dir);
    const note = readFileSync(kept.path, "utf8");
    const witness = (name: string) => {
      const pair = generateKeyPair();
      const priv = parsePrivateKey(pair.privateKeyPem);
      const raw = rawPublicKey(parsePublicKey(pair.publicKeyPem));
      return { signer: cosignatureSigner(name, (m) => signBytes(priv, m), raw), vkey: cosignatureVerifierKey(name, raw) };
    };
    const w1 = witness("w1.test/witness");
    const w2 = witness("w2.test/witness");
    const time = Math.floor(Date.now() / 1000);
    const cosigned = join(dir, "cosigned");
    writeFileSync(cosigned, note + w1.signer.cosign(checkpointTextOf(note), time));
    const ok = verifyWith(d, "--checkpoint", cosigned, "--witness", w1.vkey);
    expect(ok.stdout).toContain("cosigned by w1.test/witness");
    expect(ok.code).toBe(0);
    // Two witnesses asked for, one cosigned: not enough.
    const both = verifyWith(d, "--checkpoint", cosigned, "--witness", `${w1.vkey},${w2.vkey}`);
    expect(both.stdout).toContain("UNWITNESSED");
    expect(both.code).toBe(1);
    expect(verifyWith(d, "--checkpoint", cosigned, "--witness", `${w1.vkey},${w2.vkey}`, "--quorum", "1").code).toBe(0);
    // A cosignature line moved onto another checkpoint does not verify.
    const forged = join(dir, "forged");
    const other = note.replace(/^(.*\n)(\d+)\n/, (_m, o: string, n: string) => `${o}${Number(n) - 1}\n`);
    writeFileSync(forged, other + w1.signer.cosign(checkpointTextOf(note), time));
    const bad = verifyWith(d, "--checkpoint", forged, "--witness", w1.vkey);
    expect(bad.code).toBe(1);
    // A log key given as a witness key is a usage error naming the problem.
    const usage = verifyWith(d, "--checkpoint", cosigned, "--witness", readFileSync(join(dir, "log.vkey"), "utf8").trim());
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("not a cosignature/v1 witness key");
    expect(count(d.db, "tlog_checkpoints")).toBeGreaterThan(0);
  }, 60_000);
});
