// `agent-receipts backup` through the compiled binary (issue 13, item 1): a
// consistent, verified, single-file copy while the daemon writes under load or
// while it is stopped; never overwriting; a damaged source or a wrong key
// reported as such.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeChainDb, tempDir, writeKeyFiles } from "../helpers/fixtures.ts";
import { countReceipts, daemonTracker, runCli, spawnSender, verify, waitFor } from "../daemon/support.ts";

const daemons = daemonTracker();
afterAll(() => daemons.stopAll());

interface BackupJson {
  source: string;
  out: string;
  valid: boolean;
  chains: number;
  receipts: number;
  public_key: { path: string; fingerprint: string };
}

function backup(db: string, publicKey: string, out: string, ...extra: string[]) {
  return runCli(["backup", "--db", db, "--public-key", publicKey, "--out", out, ...extra], {}, { timeoutMs: 60_000 });
}

/** Nothing but the published copy is left in the destination directory (no staging file, no -wal, no -shm). */
function onlyFiles(dir: string): string[] {
  return readdirSync(dir).sort();
}

function stoppedDb(count: number): { dir: string; db: string; publicKey: string; privateKeyPem: string } {
  const dir = tempDir("ar-backup-src-");
  const keys = writeKeyFiles(dir);
  const db = join(dir, "receipts.db");
  makeChainDb(db, keys.privateKeyPem, count, { chainId: "bk", terminate: true, batch: 50 });
  return { dir, db, publicKey: keys.publicKey, privateKeyPem: keys.privateKeyPem };
}

describe("backup while the daemon writes under load", () => {
  test("a consistent single-file copy that verifies, made while the writer goes on", async () => {
    const d = await daemons.start({ args: ["--chain-id", "live"] });
    const sender = spawnSender("node", d.socket, { steps: [{ op: "gen", count: 200_000, session: "live", perWrite: 20, delayMs: 2 }] });
    await waitFor("receipts under load", () => countReceipts(d.db), (n) => n >= 500);
    const outDir = tempDir("ar-backup-out-");
    const out = join(outDir, "receipts-copy.db");
    const r = backup(d.db, d.publicKey, out, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as BackupJson;
    expect(report).toMatchObject({ source: d.db, out, valid: true, chains: 1, public_key: { path: d.publicKey } });
    expect(report.receipts).toBeGreaterThanOrEqual(500);
    // The daemon kept writing: the source is ahead of the snapshot, and the snapshot is a prefix of it.
    await waitFor("the daemon writing on", () => countReceipts(d.db), (n) => n > report.receipts);
    expect(onlyFiles(outDir)).toEqual(["receipts-copy.db"]);
    const copy = new Database(out, { readonly: true });
    expect(copy.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "delete" });
    expect(copy.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    copy.close();
    expect(countReceipts(out)).toBe(report.receipts);
    const v = verify(out, d.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains).toMatchObject([{ valid: true, count: report.receipts }]);
    sender.proc.kill("SIGKILL");
    expect(await d.stop()).toBe(0);
    expect(verify(d.db, d.publicKey).code).toBe(0);
  }, 60_000);
});

describe("backup of a stopped daemon's database", () => {
  test("copies every receipt, verifies it, and says so in one line", () => {
    const src = stoppedDb(300);
    const out = join(tempDir("ar-backup-out-"), "copy.db");
    const r = backup(src.db, src.publicKey, out);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`copied ${src.db} to ${out}: 1 chain(s), 301 receipt(s), verified with key sha256:`);
    expect(countReceipts(out)).toBe(301);
    expect(verify(out, src.publicKey).report.chains).toMatchObject([{ valid: true, count: 301, status: "interrupted" }]);
  });
});

describe("refusals", () => {
  test("never overwrites: an existing --out is refused (exit 2) and left as it was", () => {
    const src = stoppedDb(5);
    const outDir = tempDir("ar-backup-out-");
    const out = join(outDir, "taken.db");
    writeFileSync(out, "precious");
    const r = backup(src.db, src.publicKey, out);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`agent-receipts: ${out} already exists; backup never overwrites a file. Choose another --out, or move that file away first.\n`);
    expect(readFileSync(out, "utf8")).toBe("precious");
    expect(onlyFiles(outDir)).toEqual(["taken.db"]);
  });

  test("a missing destination directory, a missing --out and a missing database are one-line errors (exit 2)", () => {
    const src = stoppedDb(2);
    const noDir = join(tempDir("ar-backup-out-"), "nope", "copy.db");
    const r1 = backup(src.db, src.publicKey, noDir);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain("does not exist. Create it first.");
    const r2 = runCli(["backup", "--db", src.db, "--public-key", src.publicKey]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("--out");
    const r3 = backup(join(src.dir, "absent.db"), src.publicKey, join(tempDir("ar-backup-out-"), "c.db"));
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain("absent.db does not exist");
    for (const r of [r1, r2, r3]) expect(r.stderr).not.toContain("    at ");
  });

  test("a wrong public key writes nothing (exit 2): it is not a damaged database", () => {
    const src = stoppedDb(5);
    const other = writeKeyFiles(tempDir("ar-backup-key-"));
    const outDir = tempDir("ar-backup-out-");
    const r = backup(src.db, other.publicKey, join(outDir, "copy.db"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nothing written");
    expect(r.stderr).toContain("does not match the receipts");
    expect(onlyFiles(outDir)).toEqual([]);
  });

  test("a tampered source: the copy is kept (it is the evidence as it stands) but the command fails (exit 1) and says why", () => {
    const src = stoppedDb(20);
    const db = new Database(src.db);
    db.run("UPDATE receipts SET receipt_json = replace(receipt_json, 'read_file', 'rm_rf') WHERE sequence = 7");
    db.close();
    const outDir = tempDir("ar-backup-out-");
    const out = join(outDir, "copy.db");
    const r = backup(src.db, src.publicKey, out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${out} written, but it does not verify, because ${src.db} itself does not (broken: bk)`);
    expect(existsSync(out)).toBe(true);
    expect(onlyFiles(outDir)).toEqual(["copy.db"]);
    expect(verify(out, src.publicKey).code).toBe(1);
  });
});
