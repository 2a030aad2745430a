// What `status` and `doctor` show of the transparency log, read in one
// snapshot of the database: the tree's size, the newest stored checkpoint,
// the receipts no checkpoint covers yet (and the oldest one's date), and the
// witnesses' cosignatures. A few indexed reads, never the whole log.
import type { Database } from "bun:sqlite";
import { hasTlogTables, TlogTables, type StoredCheckpoint } from "../store/tlog-tables.ts";
import { originOf } from "../verify/checkpoint-verdict.ts";

export interface WitnessCosigned {
  key_name: string;
  key_id: string;
  /** The largest checkpoint size it cosigned. */
  size: number;
  /** Cosignatures stored from it. */
  count: number;
  /** When the newest one arrived. */
  received_at: string;
}

export interface TlogSummary {
  /** The newest checkpoint's origin; null before the first checkpoint. */
  origin: string | null;
  /** Leaves in the stored tree. */
  treeSize: number;
  /** Receipts after the tree's end (written while the log was off; the daemon adds them at its next start). */
  unlogged: number;
  checkpoint: StoredCheckpoint | null;
  /** Receipts that no stored checkpoint covers: leaves beyond its size, and receipts not in the tree. */
  uncovered: number;
  /** The date of the oldest of those, or null when there is none. */
  oldestUncoveredAt: string | null;
  witnesses: WitnessCosigned[];
}

/** Null when the database has no log tables (the log is off, or no daemon of this version has started on it). */
export function summarizeTlog(db: Database): TlogSummary | null {
  if (!hasTlogTables(db)) return null;
  db.run("BEGIN");
  try {
    const tables = new TlogTables(db, true);
    const treeSize = tables.size();
    const last = tables.lastRun();
    const afterTree = last === null ? 0 : last.firstRowid + last.count;
    const unlogged = db.query<{ n: number }, [number]>("SELECT COUNT(*) AS n FROM receipts WHERE rowid >= ?").get(afterTree)?.n ?? 0;
    const checkpoint = tables.latestCheckpoint();
    const covered = Math.min(Math.max(checkpoint?.size ?? 0, 0), treeSize);
    // The first uncovered leaf's receipt, or the first receipt after the tree.
    const firstRowid = (covered < treeSize ? tables.rowidOfLeaf(covered) : null) ?? afterTree;
    const uncovered = treeSize - covered + unlogged;
    const oldest = uncovered === 0
      ? null
      : db.query<{ timestamp: unknown }, [number]>("SELECT timestamp FROM receipts WHERE rowid >= ? ORDER BY rowid LIMIT 1").get(firstRowid);
    const witnesses = db.query<{ key_name: unknown; key_id: unknown; size: number; count: number; received_at: unknown }, []>(
      "SELECT key_name, key_id, MAX(size) AS size, COUNT(*) AS count, MAX(received_at) AS received_at FROM tlog_cosignatures GROUP BY key_name, key_id ORDER BY key_name, key_id",
    ).all().map((w) => ({ key_name: String(w.key_name), key_id: String(w.key_id), size: Number(w.size), count: Number(w.count), received_at: String(w.received_at) }));
    return {
      origin: checkpoint === null ? null : originOf(checkpoint.note),
      treeSize, unlogged, checkpoint, uncovered,
      oldestUncoveredAt: typeof oldest?.timestamp === "string" ? oldest.timestamp : null,
      witnesses,
    };
  } finally {
    db.run("COMMIT");
  }
}
