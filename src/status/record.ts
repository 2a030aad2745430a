// The few read-only numbers `status` shows about the record, each one query
// on an index (rowid, timestamp, action_type) or a count: fast on a large
// database, and never a write lock.
import type { Database } from "bun:sqlite";
import { EVENTS_DROPPED_TYPE } from "../daemon/pipeline/builder.ts";

export interface ChainHead {
  chain_id: string;
  sequence: number;
  timestamp: string;
}

export interface RecordSummary {
  total: number;
  lastHour: number;
  /** The newest receipt written, in any chain. */
  head: ChainHead | null;
  dropped: { receipts: number; events: number };
}

export function summarizeRecord(db: Database, now: Date): RecordSummary {
  const total = db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM receipts").get()?.n ?? 0;
  // Stored timestamps are toISOString() output, so text order is time order.
  const since = new Date(now.getTime() - 3600_000).toISOString();
  const lastHour = db.query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM receipts WHERE timestamp >= ?").get(since)?.n ?? 0;
  const head = db.query<ChainHead, []>("SELECT chain_id, sequence, timestamp FROM receipts ORDER BY rowid DESC LIMIT 1").get() ?? null;
  // json_valid: a tampered row must not make status fail (verify reports it).
  const dropped = db
    .query<{ n: number; events: number | null }, [string]>(
      "SELECT COUNT(*) AS n, SUM(CASE WHEN json_valid(receipt_json) THEN json_extract(receipt_json, '$.credentialSubject.action.emitter_metadata.drop_count') END) AS events FROM receipts WHERE action_type = ?",
    )
    .get(EVENTS_DROPPED_TYPE);
  return { total, lastHour, head, dropped: { receipts: dropped?.n ?? 0, events: dropped?.events ?? 0 } };
}
