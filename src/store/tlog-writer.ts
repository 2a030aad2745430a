// The write side of the transparency log, on the daemon's own connection:
// extends the tree inside the transaction that inserts the receipts, and
// stores checkpoints and cosignatures. One owner (the writer thread).
import type { Database, Statement } from "bun:sqlite";
import { TreeAppender } from "../tlog/appender.ts";
import { receiptLeaf } from "../tlog/leaf.ts";
import { TreeHashes } from "../tlog/tree-hashes.ts";
import { TLOG_SCHEMA_SQL, tileId } from "./tlog-schema.ts";
import { TlogTables, type LeafRun, type StoredCheckpoint } from "./tlog-tables.ts";

/** Receipts read per transaction when a database from before the log gets its leaves. */
const BACKFILL_CHUNK = 20_000;

export interface AppendedReceipt {
  rowid: number;
  /** The receipt_hash column: "sha256:<64 hex>" (anything, in a tampered row). */
  receiptHash: unknown;
}

export interface Backfill {
  leaves: number;
  fromSize: number;
  ms: number;
}

export interface CheckpointCosignature {
  keyName: string;
  keyId: string;
  line: string;
  anchor: string;
}

export class TlogWriter {
  readonly tables: TlogTables;
  private readonly appender: TreeAppender;
  readonly hashes: TreeHashes;
  private lastRun: LeafRun | null;
  private savedRun: LeafRun | null = null;
  private touchedRuns = new Map<number, LeafRun>();
  private readonly putTile: Statement;
  private readonly putRun: Statement;
  private readonly putCheckpoint: Statement;
  private latest: StoredCheckpoint | null;
  private stagedCheckpoint: StoredCheckpoint | null = null;
  /** Runs inside each receipts transaction after the leaves are appended (the checkpoint policy). */
  beforeCommit: (() => void) | null = null;
  /** Told of each checkpoint once its transaction has committed. */
  onCheckpoint: ((c: StoredCheckpoint) => void) | null = null;

  constructor(private readonly db: Database) {
    db.run(TLOG_SCHEMA_SQL);
    this.tables = new TlogTables(db, false);
    this.appender = new TreeAppender(this.tables.size(), this.tables);
    this.hashes = new TreeHashes(this.appender);
    this.lastRun = this.tables.lastRun();
    this.latest = this.tables.latestCheckpoint();
    this.putTile = db.prepare("INSERT OR REPLACE INTO tlog_tiles (id, level, idx, hashes) VALUES (?, ?, ?, ?)");
    this.putRun = db.prepare("INSERT OR REPLACE INTO tlog_runs (first_leaf, first_rowid, count) VALUES (?, ?, ?)");
    this.putCheckpoint = db.prepare("INSERT OR IGNORE INTO tlog_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)");
  }

  get size(): number {
    return this.appender.size;
  }

  /** The newest committed checkpoint. */
  get latestCheckpoint(): StoredCheckpoint | null {
    return this.latest;
  }

  /** The leaf index of the receipt committed last, and whether it is the row the tree says (a start-up sanity check). */
  lastLeafMatches(): boolean | null {
    const run = this.lastRun;
    if (run === null || this.size === 0) return null;
    const rowid = run.firstRowid + run.count - 1;
    const row = this.db.query<{ receipt_hash: unknown }, [number]>("SELECT receipt_hash FROM receipts WHERE rowid = ?").get(rowid);
    if (row === null) return false;
    try {
      const tile = this.hashes.node(0, this.size - 1);
      return Buffer.from(tile).equals(Buffer.from(receiptLeaf(row.receipt_hash)));
    } catch {
      return false;
    }
  }

  /** Begins a transaction's worth of appends. */
  stage(): void {
    this.appender.stage();
    this.savedRun = this.lastRun === null ? null : { ...this.lastRun };
    this.touchedRuns = new Map();
    this.stagedCheckpoint = null;
  }

  /** Inside the transaction: appends the receipts as leaves, writes the touched tiles and runs, then runs the checkpoint policy. */
  append(receipts: readonly AppendedReceipt[]): void {
    for (const r of receipts) {
      const leaf = this.appender.append(receiptLeaf(r.receiptHash));
      const run = this.lastRun;
      if (run !== null && run.firstLeaf + run.count === leaf && run.firstRowid + run.count === r.rowid) {
        run.count++;
      } else {
        this.lastRun = { firstLeaf: leaf, firstRowid: r.rowid, count: 1 };
      }
      this.touchedRuns.set(this.lastRun!.firstLeaf, this.lastRun!);
    }
    for (const w of this.appender.pendingWrites()) this.putTile.run(tileId(w.level, w.index), w.level, w.index, w.hashes);
    for (const run of this.touchedRuns.values()) this.putRun.run(run.firstLeaf, run.firstRowid, run.count);
    this.touchedRuns = new Map();
    this.beforeCommit?.();
  }

  /**
   * Inside the transaction: stores a signed checkpoint of the current size.
   * A row already there for this size (a tree cut back under an old
   * checkpoint) is kept and the new note dropped: a failed insert must never
   * take the receipts' transaction down with it.
   */
  addCheckpoint(note: string, root: Uint8Array, now: Date): boolean {
    const c: StoredCheckpoint = { size: this.size, root, note, createdAt: now.toISOString() };
    if (this.putCheckpoint.run(c.size, c.root, c.note, c.createdAt).changes !== 1) return false;
    this.stagedCheckpoint = c;
    return true;
  }

  /** The transaction committed. */
  take(): void {
    this.appender.take();
    this.savedRun = null;
    const c = this.stagedCheckpoint;
    this.stagedCheckpoint = null;
    if (c !== null) {
      this.latest = c;
      this.onCheckpoint?.(c);
    }
  }

  /** The transaction failed: the tree is as it was. */
  restore(): void {
    this.appender.restore();
    this.lastRun = this.savedRun;
    this.savedRun = null;
    this.touchedRuns = new Map();
    this.stagedCheckpoint = null;
  }

  /** Runs `fn` (which may call addCheckpoint) in its own transaction, staged like a batch. */
  transact(fn: () => void): void {
    this.stage();
    try {
      this.db.transaction(fn)();
    } catch (err) {
      this.restore();
      throw err;
    }
    this.take();
  }

  /**
   * Gives leaves to receipts committed without them: every receipt of a
   * database from before the log, or written while it was off. In commit
   * (rowid) order, in chunks of their own transactions. Null when none.
   */
  backfill(): Backfill | null {
    const started = performance.now();
    const fromSize = this.size;
    const after = this.lastRun === null ? 0 : this.lastRun.firstRowid + this.lastRun.count - 1;
    const next = this.db.query<{ rowid: number; receipt_hash: unknown }, [number, number]>(
      "SELECT rowid AS rowid, receipt_hash FROM receipts WHERE rowid > ? ORDER BY rowid LIMIT ?",
    );
    let from = after;
    for (;;) {
      const rows = next.all(from, BACKFILL_CHUNK);
      if (rows.length === 0) break;
      this.transact(() => {
        this.append(rows.map((r) => ({ rowid: r.rowid, receiptHash: r.receipt_hash })));
      });
      from = rows[rows.length - 1]!.rowid;
    }
    const leaves = this.size - fromSize;
    return leaves === 0 ? null : { leaves, fromSize, ms: performance.now() - started };
  }

  /** Stores cosignature lines returned for the checkpoint of `size`; duplicates are kept once. */
  addCosignatures(size: number, cosignatures: readonly CheckpointCosignature[], now: Date): number {
    const put = this.db.prepare(
      "INSERT OR IGNORE INTO tlog_cosignatures (size, key_name, key_id, signature_line, anchor, received_at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    let added = 0;
    this.db.transaction(() => {
      for (const c of cosignatures) added += put.run(size, c.keyName, c.keyId, c.line, c.anchor, now.toISOString()).changes;
    })();
    put.finalize();
    return added;
  }

  finalize(): void {
    this.putTile.finalize();
    this.putRun.finalize();
    this.putCheckpoint.finalize();
  }
}
