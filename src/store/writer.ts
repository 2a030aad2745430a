// The write side of the store: owned by one process (the daemon). WAL with
// synchronous=FULL, so a committed batch survives a power cut.
import { Database } from "bun:sqlite";
import { checkDbFiles, ensureParentDir, tightenDbFiles } from "../os/files.ts";
import { SCHEMA_SQL, type ChainSummary, type ChainTail, type ReceiptRow } from "./schema.ts";
import { chainIdsWithPrefix, listChains, readTail } from "./queries.ts";

export class StoreWriter {
  readonly db: Database;
  private readonly insert;
  private readonly insertMany: (rows: readonly ReceiptRow[]) => void;

  constructor(readonly path: string) {
    checkDbFiles(path);
    ensureParentDir(path);
    this.db = new Database(path, { create: true, readwrite: true, strict: true });
    this.db.run("PRAGMA journal_mode = WAL");
    this.db.run("PRAGMA synchronous = FULL");
    this.db.run("PRAGMA busy_timeout = 5000");
    this.db.run(SCHEMA_SQL);
    tightenDbFiles(path);
    this.insert = this.db.prepare<void, ReceiptRow>(
      `INSERT INTO receipts (id, chain_id, sequence, action_type, tool_name, risk_level, status, timestamp, issuer_id,
        principal_id, receipt_json, receipt_hash, previous_receipt_hash)
       VALUES ($id, $chain_id, $sequence, $action_type, $tool_name, $risk_level, $status, $timestamp, $issuer_id,
        $principal_id, $receipt_json, $receipt_hash, $previous_receipt_hash)`,
    );
    this.insertMany = this.db.transaction((rows: readonly ReceiptRow[]) => {
      for (const row of rows) this.insert.run(row);
    });
  }

  /** Inserts the rows in one transaction: all or none. */
  insertBatch(rows: readonly ReceiptRow[]): void {
    if (rows.length > 0) this.insertMany(rows);
  }

  tail(chainId: string): ChainTail | null {
    return readTail(this.db, chainId);
  }

  chains(): ChainSummary[] {
    return listChains(this.db);
  }

  chainIdsWithPrefix(prefix: string): string[] {
    return chainIdsWithPrefix(this.db, prefix);
  }

  close(): void {
    this.db.close();
    tightenDbFiles(this.path);
  }
}
