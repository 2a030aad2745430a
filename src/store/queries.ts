// Queries shared by the writer and readers.
import type { Database } from "bun:sqlite";
import type { ChainSummary, ChainTail } from "./schema.ts";

export function readTail(db: Database, chainId: string): ChainTail | null {
  const row = db
    .query<{ sequence: number; receipt_hash: string; id: string; receipt_json: string }, [string]>(
      "SELECT sequence, receipt_hash, id, receipt_json FROM receipts WHERE chain_id = ? ORDER BY sequence DESC LIMIT 1",
    )
    .get(chainId);
  if (row === null) return null;
  let terminal = false;
  try {
    terminal = (JSON.parse(row.receipt_json) as { credentialSubject?: { chain?: { terminal?: unknown } } }).credentialSubject?.chain?.terminal === true;
  } catch {
    // An unparsable tail cannot be extended safely; the caller treats it as terminal.
    terminal = true;
  }
  return { chainId, sequence: row.sequence, hash: row.receipt_hash, receiptId: row.id, terminal };
}

export function listChains(db: Database): ChainSummary[] {
  return db
    .query<{ chain_id: string; n: number; lo: number; hi: number }, []>(
      "SELECT chain_id, COUNT(*) AS n, MIN(sequence) AS lo, MAX(sequence) AS hi FROM receipts GROUP BY chain_id ORDER BY MIN(rowid)",
    )
    .all()
    .map((r) => ({ chainId: r.chain_id, count: r.n, firstSequence: r.lo, lastSequence: r.hi }));
}

/** Chain ids starting with `prefix`, through the (chain_id, sequence) index. */
export function chainIdsWithPrefix(db: Database, prefix: string): string[] {
  return db
    .query<{ chain_id: string }, [string, string]>("SELECT DISTINCT chain_id FROM receipts WHERE chain_id >= ? AND chain_id < ?")
    .all(prefix, `${prefix}\u{10FFFF}`)
    .map((r) => r.chain_id);
}

/**
 * Chains starting with `prefix` whose last receipt is not terminal, in one
 * query over the (chain_id, sequence) index: at shutdown there may be tens of
 * thousands of closed sub-agent chains and only a few open ones. An
 * unparsable tail counts as terminal, as in readTail.
 */
export function openChainIdsWithPrefix(db: Database, prefix: string): string[] {
  return db
    .query<{ chain_id: string }, [string, string]>(
      `SELECT r.chain_id FROM receipts r
       JOIN (SELECT chain_id, MAX(sequence) AS seq FROM receipts WHERE chain_id >= ? AND chain_id < ? GROUP BY chain_id) t
         ON r.chain_id = t.chain_id AND r.sequence = t.seq
       WHERE (CASE WHEN json_valid(r.receipt_json) THEN json_extract(r.receipt_json, '$.credentialSubject.chain.terminal') ELSE 1 END) IS NOT 1`,
    )
    .all(prefix, `${prefix}\u{10FFFF}`)
    .map((r) => r.chain_id);
}
