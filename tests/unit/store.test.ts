// The SQLite store (docs/protocol.md §8, §9): schema, WAL, transactional batches,
// tails and chain listing, the read-only reader (also against a live writer in
// another process), file modes and symlink refusal.
import { test, expect, describe, afterAll } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { receiptHash } from "../../src/receipt/canonical.ts";
import { UnsafeFileError } from "../../src/os/files.ts";
import { StoreOpenError, StoreReader } from "../../src/store/reader.ts";
import { READER_INDEXES, SCHEMA_SQL, type ReceiptRow } from "../../src/store/schema.ts";
import { StoreWriter } from "../../src/store/writer.ts";
import { makeChainDb, ROOT, tempDir, writeKeyFiles } from "../helpers/fixtures.ts";
import { spawnWriter } from "../helpers/live-writer-process.ts";

const dirs: string[] = [];
function dir(): string {
  const d = tempDir("ar-store-");
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function row(chainId: string, sequence: number, extra: Partial<ReceiptRow> = {}): ReceiptRow {
  return {
    id: `urn:receipt:${chainId}-${sequence}-${Math.random().toString(36).slice(2)}`,
    chain_id: chainId,
    sequence,
    action_type: "sdk.read_file",
    tool_name: "read_file",
    risk_level: "medium",
    status: "success",
    timestamp: new Date().toISOString(),
    issuer_id: "did:agent-receipts-daemon:local",
    principal_id: "did:user:tester",
    receipt_json: JSON.stringify({ n: sequence, chain: chainId }),
    receipt_hash: `sha256:${sequence.toString(16).padStart(64, "0")}`,
    previous_receipt_hash: null,
    ...extra,
  };
}

function count(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM receipts").get()!.n;
  } finally {
    db.close();
  }
}

type Column = { name: string; type: string; notnull: number; dflt_value: string | null; pk: number };

function column(name: string, type: string, rest: string): Column {
  const dflt = /DEFAULT (\S+)/.exec(rest);
  return { name, type, notnull: /NOT NULL/.test(rest) ? 1 : 0, dflt_value: dflt ? dflt[1]! : null, pk: /PRIMARY KEY/.test(rest) ? 1 : 0 };
}

/** Columns of `receipts` as docs/protocol.md §8 documents them, read from its CREATE TABLE block. */
function protocolColumns(): Column[] {
  const text = readFileSync(join(ROOT, "docs", "protocol.md"), "utf8");
  const section = text.slice(text.indexOf("## 8."), text.indexOf("## 9."));
  const table = /CREATE TABLE (?:IF NOT EXISTS )?receipts \(\n([\s\S]*?)\n\);/.exec(section)?.[1] ?? "";
  return [...table.matchAll(/^\s+([a-z_]+) (TEXT|INTEGER)([^,\n]*)/gm)].map(([, name, type, rest]) => column(name!, type!, rest!));
}

/** The same from the upstream protocol text, where the reference shelf sits beside this clone. */
const UPSTREAM_PROTOCOL = join(ROOT, "..", "shared", "reference", "PROTOCOL.md");
function upstreamColumns(): Column[] {
  const text = readFileSync(UPSTREAM_PROTOCOL, "utf8");
  const section = text.slice(text.indexOf("## 8."), text.indexOf("## 9."));
  return [...section.matchAll(/`([a-z_]+) (TEXT|INTEGER)([^`]*)`/g)].map(([, name, type, rest]) => column(name!, type!, rest!));
}

describe("schema (docs/protocol.md §8)", () => {
  const d = dir();
  const path = join(d, "receipts.db");
  const w = new StoreWriter(path);
  w.close();
  const db = new Database(path, { readonly: true });

  test("table receipts has exactly the protocol's columns", () => {
    const expected = protocolColumns();
    expect(expected.length).toBe(14);
    const actual = db.query<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }, []>(
      "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('receipts')",
    ).all();
    expect(actual).toEqual(expected);
  });

  test.skipIf(!existsSync(UPSTREAM_PROTOCOL))(`docs/protocol.md documents the upstream protocol's columns (${existsSync(UPSTREAM_PROTOCOL) ? "compared" : "skipped: no ../shared/reference beside this clone"})`, () => {
    expect(protocolColumns()).toEqual(upstreamColumns());
  });

  test("UNIQUE (chain_id, sequence), id primary key, indexes on action_type, risk_level, timestamp, and the readers' indexes", () => {
    const indexes = db.query<{ name: string; unique: number; origin: string }, []>("SELECT name, \"unique\", origin FROM pragma_index_list('receipts')").all();
    const columnsOf = (name: string) =>
      db.query<{ name: string }, [string]>("SELECT name FROM pragma_index_info(?) ORDER BY seqno").all(name).map((r) => r.name);
    const described = indexes.map((i) => ({ columns: columnsOf(i.name), unique: i.unique, origin: i.origin }));
    expect(described).toContainEqual({ columns: ["chain_id", "sequence"], unique: 1, origin: "u" });
    expect(described).toContainEqual({ columns: ["id"], unique: 1, origin: "pk" });
    for (const col of ["action_type", "risk_level", "timestamp"]) {
      expect(described).toContainEqual({ columns: [col], unique: 0, origin: "c" });
    }
    // Plus the readers' indexes (src/store/schema.ts READER_INDEXES): two columns, three receipt members.
    for (const col of ["tool_name", "status"]) expect(described).toContainEqual({ columns: [col], unique: 0, origin: "c" });
    const expressions = db
      .query<{ sql: string }, []>("SELECT sql FROM sqlite_master WHERE type = 'index' AND name IN ('idx_receipts_session', 'idx_receipts_peer_uid', 'idx_receipts_peer_exe') ORDER BY name")
      .all().map((r) => r.sql);
    expect(expressions).toEqual([
      expect.stringContaining("'$.credentialSubject.action.peer_credential.exe_path'"),
      expect.stringContaining("'$.credentialSubject.action.peer_credential.uid'"),
      expect.stringContaining("'$.issuer.session_id'"),
    ]);
    expect(described.length).toBe(10);
  });

  test("migration: a database with only the reference's schema gets the readers' indexes, rows and table shape unchanged", () => {
    const p = join(dir(), "reference.db");
    const ref = new Database(p, { create: true });
    ref.run("PRAGMA journal_mode = WAL");
    ref.run(SCHEMA_SQL);
    // A tampered row that is not JSON must not make the migration fail.
    ref.run("INSERT INTO receipts (id, chain_id, sequence, action_type, risk_level, status, timestamp, issuer_id, receipt_json, receipt_hash) VALUES ('x','c',1,'a','low','success','t','i','not json','h')");
    const shape = () => ref.query("SELECT * FROM pragma_table_info('receipts')").all();
    const before = shape();
    ref.close();
    const w = new StoreWriter(p);
    w.close();
    const after = new Database(p, { readonly: true });
    const names = after.query<{ name: string }, []>("SELECT name FROM pragma_index_list('receipts')").all().map((r) => r.name);
    for (const name of Object.keys(READER_INDEXES)) expect(names).toContain(name);
    expect(after.query("SELECT * FROM pragma_table_info('receipts')").all()).toEqual(before);
    expect(after.query<{ n: number }, []>("SELECT count(*) AS n FROM receipts").get()!.n).toBe(1);
    after.close();
  });

  test("journal mode is WAL (persistent, seen by a new connection); writer uses synchronous=FULL", () => {
    expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()!.journal_mode).toBe("wal");
    const w2 = new StoreWriter(join(dir(), "r.db"));
    expect(w2.db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()!.synchronous).toBe(2);
    w2.close();
  });

  test("reopening an existing database keeps its rows (CREATE IF NOT EXISTS)", () => {
    const p = join(dir(), "r.db");
    const a = new StoreWriter(p);
    a.insertBatch([row("c", 1)]);
    a.close();
    const b = new StoreWriter(p);
    expect(b.chains()).toEqual([{ chainId: "c", count: 1, firstSequence: 1, lastSequence: 1 }]);
    b.close();
  });
});

describe("StoreWriter", () => {
  test("a batch is one transaction: a duplicate (chain_id, sequence) leaves nothing inserted", () => {
    const path = join(dir(), "r.db");
    const w = new StoreWriter(path);
    w.insertBatch([row("a", 1), row("a", 2)]);
    expect(() => w.insertBatch([row("a", 3), row("a", 4), row("b", 1), row("a", 4)])).toThrow();
    expect(count(path)).toBe(2);
    // A duplicate against an already committed row is refused the same way.
    expect(() => w.insertBatch([row("a", 3), row("a", 2)])).toThrow();
    // And a duplicate receipt id.
    const dup = row("a", 3);
    expect(() => w.insertBatch([dup, { ...row("a", 4), id: dup.id }])).toThrow();
    expect(count(path)).toBe(2);
    w.insertBatch([row("a", 3)]);
    expect(count(path)).toBe(3);
    w.insertBatch([]);
    expect(count(path)).toBe(3);
    w.close();
  });

  test("a row with a missing NOT NULL column fails and inserts nothing", () => {
    const path = join(dir(), "r.db");
    const w = new StoreWriter(path);
    expect(() => w.insertBatch([row("a", 1), row("a", 2, { receipt_hash: null as unknown as string })])).toThrow();
    expect(count(path)).toBe(0);
    w.close();
  });

  test("tail, chain listing and prefix lookup over real chains", () => {
    const d = dir();
    const path = join(d, "r.db");
    const keys = writeKeyFiles(d);
    makeChainDb(path, keys.privateKeyPem, 7, { chainId: "2026-06-13", terminate: true, batch: 3 });
    makeChainDb(path, keys.privateKeyPem, 4, { chainId: "2026-06-13/agent/sub", batch: 2 });
    makeChainDb(path, keys.privateKeyPem, 2, { chainId: "other" });
    const w = new StoreWriter(path);
    expect(w.chains()).toEqual([
      { chainId: "2026-06-13", count: 8, firstSequence: 1, lastSequence: 8 },
      { chainId: "2026-06-13/agent/sub", count: 4, firstSequence: 1, lastSequence: 4 },
      { chainId: "other", count: 2, firstSequence: 1, lastSequence: 2 },
    ]);
    const db = new Database(path, { readonly: true });
    for (const [chainId, terminal] of [["2026-06-13", true], ["2026-06-13/agent/sub", false], ["other", false]] as const) {
      const last = db.query<{ id: string; sequence: number; receipt_json: string; receipt_hash: string }, [string]>(
        "SELECT id, sequence, receipt_json, receipt_hash FROM receipts WHERE chain_id = ? ORDER BY sequence DESC LIMIT 1",
      ).get(chainId)!;
      const tail = w.tail(chainId)!;
      expect(tail).toEqual({ chainId, sequence: last.sequence, hash: last.receipt_hash, receiptId: last.id, terminal });
      // The stored hash is the hash of the stored receipt.
      expect(receiptHash(JSON.parse(last.receipt_json) as object)).toBe(tail.hash);
    }
    db.close();
    expect(w.tail("missing")).toBeNull();
    expect(w.chainIdsWithPrefix("2026-06-13/agent/")).toEqual(["2026-06-13/agent/sub"]);
    expect(w.chainIdsWithPrefix("nothing/")).toEqual([]);
    w.close();
  });

  test("an unparsable tail counts as terminal (it cannot be extended safely)", () => {
    const path = join(dir(), "r.db");
    const w = new StoreWriter(path);
    w.insertBatch([row("c", 1, { receipt_json: "{not json" })]);
    expect(w.tail("c")!.terminal).toBe(true);
    w.close();
  });
});

describe("StoreReader", () => {
  test("opens read-only: writes through it fail and change nothing", () => {
    const path = join(dir(), "r.db");
    const w = new StoreWriter(path);
    w.insertBatch([row("c", 1), row("c", 2)]);
    w.close();
    const r = new StoreReader(path);
    expect(() => r.db.run("DELETE FROM receipts")).toThrow(/readonly|read-only/i);
    expect(() => r.db.run("INSERT INTO receipts (id, chain_id, sequence, action_type, risk_level, status, timestamp, issuer_id, receipt_json, receipt_hash) VALUES ('x','c',3,'a','low','success','t','i','{}','h')")).toThrow();
    expect(() => r.db.run("CREATE TABLE t (x)")).toThrow();
    r.close();
    expect(count(path)).toBe(2);
  });

  test("iterateChain streams one chain in sequence order, whatever the insert order", () => {
    const path = join(dir(), "r.db");
    const w = new StoreWriter(path);
    const order = [5, 2, 9, 1, 7, 3, 8, 4, 6, 10];
    w.insertBatch(order.map((s) => row("c", s)));
    w.insertBatch([row("other", 1), row("other", 2)]);
    w.close();
    const r = new StoreReader(path);
    const it = r.iterateChain("c");
    // Lazy: the first row is available before the rest is read.
    const first = it.next();
    expect(first.done).toBe(false);
    expect(first.value).toEqual({ sequence: 1, receiptJson: JSON.stringify({ n: 1, chain: "c" }) });
    const rest = [...it].map((x) => x.sequence);
    expect(rest).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect([...r.iterateChain("other")].map((x) => x.sequence)).toEqual([1, 2]);
    expect([...r.iterateChain("none")]).toEqual([]);
    expect(r.chains().map((c) => c.chainId)).toEqual(["c", "other"]);
    expect(r.tail("c")!.sequence).toBe(10);
    r.close();
  });

  test("missing file, non-database file, symlink and directory are refused with StoreOpenError", () => {
    const d = dir();
    expect(() => new StoreReader(join(d, "missing.db"))).toThrow(StoreOpenError);
    expect(existsSync(join(d, "missing.db"))).toBe(false);
    writeFileSync(join(d, "junk.db"), "this is not sqlite at all, just some text that is long enough to be a header...");
    expect(() => new StoreReader(join(d, "junk.db"))).toThrow(StoreOpenError);
    const real = join(d, "real.db");
    new StoreWriter(real).close();
    symlinkSync(real, join(d, "link.db"));
    expect(() => new StoreReader(join(d, "link.db"))).toThrow(StoreOpenError);
    expect(() => new StoreReader(d)).toThrow(StoreOpenError);
    // An SQLite file without the receipts table is not a receipts database.
    const empty = new Database(join(d, "empty.db"), { create: true });
    empty.run("CREATE TABLE x (y)");
    empty.close();
    expect(() => new StoreReader(join(d, "empty.db"))).toThrow(StoreOpenError);
  });
});

describe("reader against a writer in another process (WAL)", () => {
  test("sees committed rows while the writer keeps inserting, then after it stops", async () => {
    const d = dir();
    const db = join(d, "receipts.db");
    const keys = writeKeyFiles(d);
    const child = spawnWriter(db, keys.key, "live");
    try {
      await child.waitFor(/committed (1\d\d)\n/);
      const r = new StoreReader(db);
      let before = child.committed();
      const seen1 = r.chains()[0]!.count;
      expect(seen1).toBeGreaterThanOrEqual(before);
      // Sequences are gapless and in order in what the reader sees.
      let expectSeq = 1;
      for (const x of r.iterateChain("live")) expect(x.sequence).toBe(expectSeq++);
      expect(expectSeq - 1).toBeGreaterThanOrEqual(seen1);
      // The same reader connection sees later commits.
      await child.waitFor(new RegExp(`committed (${seen1 + 100}|[1-9]\\d{3,})\\n`));
      before = child.committed();
      expect(r.chains()[0]!.count).toBeGreaterThanOrEqual(before);
      expect(r.tail("live")!.sequence).toBeGreaterThan(seen1);
      expect(r.tail("live")!.terminal).toBe(false);
      r.close();
      // WAL mode really is in use by the writer while it runs.
      expect(existsSync(`${db}-wal`)).toBe(true);
    } finally {
      child.proc.kill("SIGTERM");
    }
    const closed = await child.waitFor(/closed (\d+)\n/);
    expect(await child.proc.exited).toBe(0);
    const total = Number(closed[1]);
    const r2 = new StoreReader(db);
    expect(r2.chains()).toEqual([{ chainId: "live", count: total, firstSequence: 1, lastSequence: total }]);
    expect([...r2.iterateChain("live")].length).toBe(total);
    r2.close();
  });

  test("sees every committed row after the writer is killed (SIGKILL, WAL left behind)", async () => {
    const d = dir();
    const db = join(d, "receipts.db");
    const keys = writeKeyFiles(d);
    const child = spawnWriter(db, keys.key, "killed", 50);
    await child.waitFor(/committed (2\d\d)\n/);
    child.proc.kill("SIGKILL");
    await child.proc.exited;
    const committed = child.committed();
    expect(existsSync(`${db}-wal`)).toBe(true);
    const r = new StoreReader(db);
    const n = r.chains()[0]!.count;
    // Every commit the child reported is there (it may have committed one more batch before dying).
    expect(n).toBeGreaterThanOrEqual(committed);
    expect(n % 50).toBe(0);
    expect([...r.iterateChain("killed")].map((x) => x.sequence)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    r.close();
  });
});

describe("file safety (docs/protocol.md §9)", () => {
  const modeOf = (p: string) => statSync(p).mode & 0o777;

  test("database and WAL files are tightened to at most 0640", () => {
    const d = dir();
    const path = join(d, "r.db");
    // A loose pre-existing (empty) database file.
    writeFileSync(path, "");
    chmodSync(path, 0o666);
    const w = new StoreWriter(path);
    w.insertBatch([row("c", 1)]);
    for (const p of [path, `${path}-wal`, `${path}-shm`]) {
      if (!existsSync(p)) continue;
      expect({ p, loose: (modeOf(p) & ~0o640) !== 0 }).toEqual({ p, loose: false });
    }
    expect(modeOf(path) & ~0o640).toBe(0);
    w.close();
    // Loosened again while stopped: the next open tightens it again; allowed bits are kept.
    chmodSync(path, 0o644);
    const w2 = new StoreWriter(path);
    expect(modeOf(path)).toBe(0o640);
    w2.close();
    chmodSync(path, 0o600);
    new StoreWriter(path).close();
    expect(modeOf(path)).toBe(0o600);
  });

  test("a symlinked database (or WAL companion) is refused before opening", () => {
    const d = dir();
    const real = join(d, "real.db");
    new StoreWriter(real).close();
    const link = join(d, "link.db");
    symlinkSync(real, link);
    expect(() => new StoreWriter(link)).toThrow(UnsafeFileError);
    const dangling = join(d, "dangling.db");
    symlinkSync(join(d, "nowhere.db"), dangling);
    expect(() => new StoreWriter(dangling)).toThrow(UnsafeFileError);
    expect(existsSync(join(d, "nowhere.db"))).toBe(false);
    const withWal = join(d, "wal.db");
    symlinkSync(join(d, "elsewhere"), `${withWal}-wal`);
    expect(() => new StoreWriter(withWal)).toThrow(UnsafeFileError);
    expect(existsSync(withWal)).toBe(false);
  });
});
