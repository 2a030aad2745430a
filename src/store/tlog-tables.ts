// Reads the transparency-log tables on any connection (the writer's, or a
// reader's read-only one). Columns are not typed strictly in SQLite, so
// everything read is checked before use.
import type { Database } from "bun:sqlite";
import { HASH_SIZE } from "../tlog/merkle.ts";
import { TILE_WIDTH, TreeDataError, type TileSource } from "../tlog/tree-hashes.ts";
import { tileId } from "./tlog-schema.ts";

export interface LeafRun {
  firstLeaf: number;
  firstRowid: number;
  count: number;
}

export interface StoredCheckpoint {
  size: number;
  root: Uint8Array;
  note: string;
  createdAt: string;
}

export interface StoredCosignature {
  size: number;
  keyName: string;
  keyId: string;
  line: string;
  anchor: string;
  receivedAt: string;
}

const MAX_CACHED_TILES = 8192;

function blob(v: unknown): Uint8Array | null {
  return v instanceof Uint8Array ? v : null;
}

function int(v: unknown): number | null {
  return typeof v === "number" && Number.isSafeInteger(v) ? v : typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
}

/** Whether the database has the log's tables (a database from before them has not, until the daemon starts on it). */
/** A checkpoint note with the cosignature lines stored beside it appended (those it does not already carry). */
export function withCosignatures(note: string, cosignatures: readonly StoredCosignature[]): string {
  const lines = cosignatures.map((c) => (c.line.endsWith("\n") ? c.line : `${c.line}\n`)).filter((l) => !note.includes(l));
  return note + lines.join("");
}

export function hasTlogTables(db: Database): boolean {
  const n = db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('tlog_tiles', 'tlog_runs', 'tlog_checkpoints', 'tlog_cosignatures')").get();
  return n?.n === 4;
}

export class TlogTables implements TileSource {
  private readonly cache = new Map<number, Uint8Array | null>();

  /** `cached`: a reader inside one snapshot may keep tiles; the writer, whose partial tiles change, must not. */
  constructor(readonly db: Database, private readonly cached: boolean) {}

  tile(level: number, index: number): Uint8Array | null {
    const id = tileId(level, index);
    if (this.cached && this.cache.has(id)) return this.cache.get(id)!;
    const row = this.db.query<{ hashes: unknown }, [number]>("SELECT hashes FROM tlog_tiles WHERE id = ?").get(id);
    let hashes = row === null ? null : blob(row.hashes);
    if (row !== null && (hashes === null || hashes.length % HASH_SIZE !== 0 || hashes.length > TILE_WIDTH * HASH_SIZE)) {
      throw new TreeDataError(`tile ${level}/${index} in tlog_tiles is malformed (not a BLOB of 32-byte hashes)`);
    }
    if (hashes !== null) hashes = new Uint8Array(hashes);
    if (this.cached) {
      // Bounded: a long walk (an export's proofs) must not end up holding the whole tree.
      if (this.cache.size >= MAX_CACHED_TILES) this.cache.clear();
      this.cache.set(id, hashes);
    }
    return hashes;
  }

  /** Leaves in the stored tree: the last level-0 tile's position and width. */
  size(): number {
    const row = this.db.query<{ idx: unknown; hashes: unknown }, [number, number]>(
      "SELECT idx, hashes FROM tlog_tiles WHERE id >= ? AND id < ? ORDER BY id DESC LIMIT 1",
    ).get(tileId(0, 0), tileId(1, 0));
    if (row === null) return 0;
    const idx = int(row.idx);
    const hashes = blob(row.hashes);
    if (idx === null || hashes === null || hashes.length % HASH_SIZE !== 0) throw new TreeDataError("the last leaf tile in tlog_tiles is malformed");
    return idx * TILE_WIDTH + hashes.length / HASH_SIZE;
  }

  runs(): LeafRun[] {
    return this.db.query<{ first_leaf: unknown; first_rowid: unknown; count: unknown }, []>("SELECT first_leaf, first_rowid, count FROM tlog_runs ORDER BY first_leaf")
      .all()
      .map(runOf);
  }

  lastRun(): LeafRun | null {
    const row = this.db.query<{ first_leaf: unknown; first_rowid: unknown; count: unknown }, []>(
      "SELECT first_leaf, first_rowid, count FROM tlog_runs ORDER BY first_leaf DESC LIMIT 1",
    ).get();
    return row === null ? null : runOf(row);
  }

  /** The leaf indexes a rowid may hold (more than one only after rowids were reused, i.e. rows deleted). */
  leavesOfRowid(rowid: number): number[] {
    return this.db.query<{ first_leaf: unknown; first_rowid: unknown; count: unknown }, [number]>(
      "SELECT first_leaf, first_rowid, count FROM tlog_runs WHERE first_rowid <= ?1 ORDER BY first_rowid DESC",
    )
      .all(rowid)
      .map(runOf)
      .filter((r) => rowid < r.firstRowid + r.count)
      .map((r) => r.firstLeaf + (rowid - r.firstRowid));
  }

  /** The rowid of the receipt at `leaf`, or null when no run holds that leaf. */
  rowidOfLeaf(leaf: number): number | null {
    const row = this.db.query<{ first_leaf: unknown; first_rowid: unknown; count: unknown }, [number]>(
      "SELECT first_leaf, first_rowid, count FROM tlog_runs WHERE first_leaf <= ?1 ORDER BY first_leaf DESC LIMIT 1",
    ).get(leaf);
    if (row === null) return null;
    const run = runOf(row);
    return leaf < run.firstLeaf + run.count ? run.firstRowid + (leaf - run.firstLeaf) : null;
  }

  checkpoints(): StoredCheckpoint[] {
    return this.db.query<{ size: unknown; root: unknown; note: unknown; created_at: unknown }, []>("SELECT size, root, note, created_at FROM tlog_checkpoints ORDER BY size")
      .all()
      .map(checkpointOf);
  }

  latestCheckpoint(): StoredCheckpoint | null {
    const row = this.db.query<{ size: unknown; root: unknown; note: unknown; created_at: unknown }, []>(
      "SELECT size, root, note, created_at FROM tlog_checkpoints ORDER BY size DESC LIMIT 1",
    ).get();
    return row === null ? null : checkpointOf(row);
  }

  cosignatures(size: number): StoredCosignature[] {
    return this.db.query<{ size: unknown; key_name: unknown; key_id: unknown; signature_line: unknown; anchor: unknown; received_at: unknown }, [number]>(
      "SELECT size, key_name, key_id, signature_line, anchor, received_at FROM tlog_cosignatures WHERE size = ? ORDER BY key_name, key_id",
    )
      .all(size)
      .map((r) => ({
        size: int(r.size) ?? -1, keyName: String(r.key_name), keyId: String(r.key_id), line: String(r.signature_line),
        anchor: String(r.anchor), receivedAt: String(r.received_at),
      }));
  }
}

function runOf(r: { first_leaf: unknown; first_rowid: unknown; count: unknown }): LeafRun {
  const firstLeaf = int(r.first_leaf);
  const firstRowid = int(r.first_rowid);
  const count = int(r.count);
  if (firstLeaf === null || firstRowid === null || count === null || count < 1) throw new TreeDataError("a row of tlog_runs is malformed");
  return { firstLeaf, firstRowid, count };
}

function checkpointOf(r: { size: unknown; root: unknown; note: unknown; created_at: unknown }): StoredCheckpoint {
  const size = int(r.size);
  const root = blob(r.root);
  // A malformed row is reported by verify, not thrown here: keep what can be read.
  return {
    size: size ?? -1,
    root: root === null ? new Uint8Array(0) : new Uint8Array(root),
    note: typeof r.note === "string" ? r.note : "",
    createdAt: typeof r.created_at === "string" ? r.created_at : "",
  };
}
