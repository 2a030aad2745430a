// The schema migration for the readers, through the compiled daemon: a
// database with only the reference's schema (as the reference implementation
// or an older version leaves it) gets the readers' indexes when the daemon
// starts on it; its table keeps its shape and its receipts still verify.
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { READER_INDEXES, SCHEMA_SQL } from "../../src/store/schema.ts";
import { startDaemon } from "../helpers/daemon.ts";
import { makeChainDb, tempDir, writeKeyFiles } from "../helpers/fixtures.ts";
import { cli } from "../helpers/verify-run.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("a reference-shaped database gains the reader indexes at daemon start; columns unchanged, receipts verify", async () => {
  const dir = tempDir("ar-migrate-");
  dirs.push(dir);
  const keys = writeKeyFiles(dir);
  const made = join(dir, "made.db");
  makeChainDb(made, keys.privateKeyPem, 20, { chainId: "old" });
  const db = join(dir, "receipts.db");
  const ref = new Database(db, { create: true });
  ref.run("PRAGMA journal_mode = WAL");
  ref.run(SCHEMA_SQL);
  ref.run(`ATTACH DATABASE '${made}' AS made`);
  ref.run("INSERT INTO receipts SELECT * FROM made.receipts");
  ref.run("DETACH DATABASE made");
  const columns = () => ref.query("SELECT * FROM pragma_table_info('receipts')").all();
  const indexes = (conn: Database) => conn.query<{ name: string }, []>("SELECT name FROM pragma_index_list('receipts')").all().map((r) => r.name);
  const shape = columns();
  for (const name of Object.keys(READER_INDEXES)) expect(indexes(ref)).not.toContain(name);
  ref.close();

  const daemon = await startDaemon({ dir, args: ["--db", db, "--key", keys.key, "--chain-id", "old"] });
  expect(await daemon.stop()).toBe(0);

  const after = new Database(db, { readonly: true });
  for (const name of Object.keys(READER_INDEXES)) expect(indexes(after)).toContain(name);
  expect(after.query("SELECT * FROM pragma_table_info('receipts')").all()).toEqual(shape);
  after.close();
  const v = cli(["verify", "--db", db, "--public-key", keys.publicKey]);
  expect(v.code).toBe(0);
  expect(v.stdout).toContain("VALID   chain old  21 receipts  status: interrupted");
  const l = cli(["list", "--db", db, "--tool", "read_file", "--jsonl"]);
  expect(l.code).toBe(0);
  expect(l.stdout.trim().split("\n")).toHaveLength(20);
});
