// The read side of verify and backup: the database opened read-only (through
// open-readonly.ts) and chains streamed in order.
import type { Database } from "bun:sqlite";
import { UserFacingError } from "../errors.ts";
import { DatabaseReadError, ReadOnlyDatabase } from "./open-readonly.ts";
import { listChains, readTail } from "./queries.ts";
import { ROW_COLUMNS, type ChainSummary, type ChainTail, type StoredRow } from "./schema.ts";

const SELECT_ROWS = `SELECT ${ROW_COLUMNS.join(", ")} FROM receipts`;

export class StoreOpenError extends UserFacingError {}

export class StoreReader {
  readonly db: Database;

  constructor(readonly path: string) {
    // The one read-only open (open-readonly.ts): never creates -wal/-shm, works for a group-only reader.
    try {
      this.db = new ReadOnlyDatabase(path).db;
    } catch (err) {
      if (err instanceof DatabaseReadError) throw new StoreOpenError(err.message);
      throw err;
    }
  }

  chains(): ChainSummary[] {
    return listChains(this.db);
  }

  tail(chainId: string): ChainTail | null {
    return readTail(this.db, chainId);
  }

  /** Streams a chain's stored receipt JSON in sequence order; memory does not grow with the chain. */
  *iterateChain(chainId: string): Generator<{ sequence: number; receiptJson: string }> {
    const stmt = this.db.query<{ sequence: number; receipt_json: string }, [string]>(
      "SELECT sequence, receipt_json FROM receipts WHERE chain_id = ? ORDER BY sequence",
    );
    for (const row of stmt.iterate(chainId)) yield { sequence: row.sequence, receiptJson: row.receipt_json };
  }

  /** Whether every stored sequence of the chain is an integer (SQLite columns are not typed strictly). */
  integerSequences(chainId: string): boolean {
    const row = this.db
      .query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM receipts WHERE chain_id = ? AND typeof(sequence) != 'integer'")
      .get(chainId);
    return row?.n === 0;
  }

  /** Sequence numbers of a chain in order, from the (chain_id, sequence) index alone. */
  *iterateSequences(chainId: string): Generator<number> {
    const stmt = this.db.query<{ sequence: number }, [string]>("SELECT sequence FROM receipts WHERE chain_id = ? ORDER BY sequence");
    for (const row of stmt.iterate(chainId)) yield row.sequence;
  }

  /** Whole rows (every column, as stored) of sequences [from, to) of a chain, in order. */
  storedRange(chainId: string, from: number, to: number): StoredRow[] {
    return this.db
      .query<StoredRow, [string, number, number]>(`${SELECT_ROWS} WHERE chain_id = ? AND sequence >= ? AND sequence < ? ORDER BY sequence`)
      .all(chainId, from, to);
  }

  /** The stored receipt JSON at one position of a chain, or null. */
  receiptJsonAt(chainId: string, sequence: number): string | null {
    const row = this.db
      .query<{ receipt_json: unknown }, [string, number]>("SELECT receipt_json FROM receipts WHERE chain_id = ? AND sequence = ?")
      .get(chainId, sequence);
    return typeof row?.receipt_json === "string" ? row.receipt_json : null;
  }

  /** Streams a chain's whole rows in sequence order, whatever their column types. */
  *iterateStoredChain(chainId: string): Generator<StoredRow> {
    yield* this.db.query<StoredRow, [string]>(`${SELECT_ROWS} WHERE chain_id = ? ORDER BY sequence`).iterate(chainId);
  }

  close(): void {
    this.db.close();
  }
}
