// doctor's quick chain check: the newest receipts of the database (by insert
// order), checked with the verifier's own per-receipt checks and in-order
// rules (docs/protocol.md §7). A window that does not start its chain takes
// its first receipt's link to the one before it on trust: that link is what
// `doctor --full` and `verify` check.
import type { KeyObject } from "node:crypto";
import type { ReadOnlyDatabase } from "../store/open-readonly.ts";
import { ROW_COLUMNS, type StoredRow } from "../store/schema.ts";
import { REASON_TEXT, toBreak, violations, type ChainBreak } from "../verify/chain-rules.ts";
import { checkStoredRow, type CheckedReceipt } from "../verify/check-receipt.ts";

export interface WindowResult {
  chainId: string;
  firstSequence: number;
  count: number;
  /** Whether the window starts at the chain's first stored receipt. */
  fromStart: boolean;
  verified: number;
  break: ChainBreak | null;
}

/** The newest `limit` receipts, as one sequence range per chain. */
function windows(reader: ReadOnlyDatabase, limit: number): Array<{ chainId: string; lo: number; hi: number }> {
  return reader.db
    .query<{ chainId: string; lo: number; hi: number }, [number]>(
      "SELECT chain_id AS chainId, MIN(sequence) AS lo, MAX(sequence) AS hi FROM (SELECT rowid AS r, chain_id, sequence FROM receipts ORDER BY rowid DESC LIMIT ?) GROUP BY chain_id ORDER BY MIN(r)",
    )
    .all(limit);
}

/** Stands for the receipt before the window: exactly what the window's first receipt links to. */
function trustedPredecessor(r: CheckedReceipt): CheckedReceipt {
  return {
    id: "", hash: typeof r.previousHash === "string" ? r.previousHash : "", previousHash: null, chainId: r.chainId, terminal: false, status: undefined,
    sequence: typeof r.sequence === "number" ? r.sequence - 1 : r.sequence,
  };
}

function checkWindow(reader: ReadOnlyDatabase, key: KeyObject, chainId: string, lo: number, hi: number): WindowResult {
  const before = reader.db.query<{ n: number }, [string, number]>("SELECT COUNT(*) AS n FROM receipts WHERE chain_id = ? AND sequence < ?").get(chainId, lo)?.n ?? 0;
  const rows = reader.db
    .query<StoredRow, [string, number, number]>(`SELECT ${ROW_COLUMNS.join(", ")} FROM receipts WHERE chain_id = ? AND sequence >= ? AND sequence <= ? ORDER BY sequence`)
    .all(chainId, lo, hi);
  let prev: CheckedReceipt | null = null;
  let verified = 0;
  let first: unknown;
  for (let i = 0; i < rows.length; i++) {
    const r = checkStoredRow(rows[i]!, key).checked;
    if (r.problem === undefined) verified++;
    if (i === 0) {
      first = r.chainId;
      if (before > 0) prev = trustedPredecessor(r);
    }
    const found = violations(r, i, prev, first);
    if (found.length > 0) {
      return {
        chainId, firstSequence: lo, count: rows.length, fromStart: before === 0, verified,
        break: toBreak(found, i, r),
      };
    }
    prev = r;
  }
  return { chainId, firstSequence: lo, count: rows.length, fromStart: before === 0, verified, break: null };
}

export function checkNewest(reader: ReadOnlyDatabase, key: KeyObject, limit: number): WindowResult[] {
  return windows(reader, limit).map((w) => checkWindow(reader, key, w.chainId, w.lo, w.hi));
}

export function breakText(b: ChainBreak): string {
  return `${REASON_TEXT[b.reason]} at sequence ${b.sequence ?? "?"}${b.receiptId === "" ? "" : ` (receipt ${b.receiptId})`}: ${b.detail}`;
}
