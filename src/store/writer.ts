// The write side of the store: owned by one process (the daemon). WAL with
// synchronous=FULL, so a committed batch survives a power cut.
import { constants, Database } from "bun:sqlite";
import { checkDbFiles, ensureParentDir, tightenDbFiles } from "../os/files.ts";
import { READER_INDEXES_SQL, SCHEMA_SQL, type ChainSummary, type ChainTail, type ReceiptRow } from "./schema.ts";
import { chainIdsWithPrefix, listChains, openChainIdsWithPrefix, readTail } from "./queries.ts";
import { describeSqliteError, schemaProblem } from "./schema-check.ts";
import { TlogWriter, type AppendedReceipt } from "./tlog-writer.ts";

const CHECKPOINT_WAIT_MS = 1000;

/** A file that is not this project's database, named with what was expected. */
export class StoreSchemaError extends Error {}

/** Opens (creating when absent) and sets up the database, refusing another program's file by name. */
function openChecked(path: string): Database {
  let db: Database | undefined;
  try {
    db = new Database(path, { create: true, readwrite: true, strict: true });
    db.run("PRAGMA busy_timeout = 5000");
    const problem = schemaProblem(db, path, true);
    if (problem !== undefined) throw new StoreSchemaError(problem);
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = FULL");
    db.run(SCHEMA_SQL);
    // The readers' indexes: a one-time build on a database that predates them.
    db.run(READER_INDEXES_SQL);
    return db;
  } catch (err) {
    db?.close();
    const described = describeSqliteError(path, err);
    throw described === undefined ? err : new StoreSchemaError(described);
  }
}

export interface StoreWriterOptions {
  /** Keep the transparency log's Merkle tree (default true); off only to measure what it costs. */
  tlog?: boolean;
}

export class StoreWriter {
  readonly db: Database;
  /** The Merkle tree over every receipt, extended in each insert's transaction; null when turned off. */
  readonly tlog: TlogWriter | null;
  private readonly insert;
  private readonly insertMany: (rows: readonly ReceiptRow[]) => void;

  constructor(readonly path: string, options: StoreWriterOptions = {}) {
    checkDbFiles(path);
    ensureParentDir(path);
    this.db = openChecked(path);
    tightenDbFiles(path);
    this.tlog = options.tlog === false ? null : new TlogWriter(this.db);
    this.insert = this.db.prepare<void, ReceiptRow>(
      `INSERT INTO receipts (id, chain_id, sequence, action_type, tool_name, risk_level, status, timestamp, issuer_id,
        principal_id, receipt_json, receipt_hash, previous_receipt_hash)
       VALUES ($id, $chain_id, $sequence, $action_type, $tool_name, $risk_level, $status, $timestamp, $issuer_id,
        $principal_id, $receipt_json, $receipt_hash, $previous_receipt_hash)`,
    );
    this.insertMany = this.db.transaction((rows: readonly ReceiptRow[]) => {
      if (this.tlog === null) {
        for (const row of rows) this.insert.run(row);
        return;
      }
      const leaves: AppendedReceipt[] = [];
      for (const row of rows) leaves.push({ rowid: Number(this.insert.run(row).lastInsertRowid), receiptHash: row.receipt_hash });
      this.tlog.append(leaves);
    });
  }

  /** Inserts the rows, and their leaves in the tree, in one transaction: all or none. */
  insertBatch(rows: readonly ReceiptRow[]): void {
    if (rows.length === 0) return;
    this.tlog?.stage();
    try {
      this.insertMany(rows);
    } catch (err) {
      this.tlog?.restore();
      throw err;
    }
    this.tlog?.take();
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

  openChainIdsWithPrefix(prefix: string): string[] {
    return openChainIdsWithPrefix(this.db, prefix);
  }

  /**
   * Folds the WAL into the database file and closes, so that after a clean
   * stop `receipts.db` alone holds every receipt (a copy of it is a backup).
   * Statements are finalized first: with one left open, SQLite keeps the
   * connection as a zombie and never checkpoints. The emptied -wal and the
   * -shm are kept: a reader without write access to the directory (an
   * auditor) can open a WAL database only when they exist. Returns false when
   * a reader kept the checkpoint from completing (the WAL then stays, valid).
   */
  close(): boolean {
    this.insert.finalize();
    this.tlog?.finalize();
    this.db.fileControl(constants.SQLITE_FCNTL_PERSIST_WAL, 1);
    // A reader (a long verify) blocks a complete checkpoint: wait for it briefly, not for the whole stop budget.
    this.db.run(`PRAGMA busy_timeout = ${CHECKPOINT_WAIT_MS}`);
    const result = this.db.query<{ busy: number; log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(TRUNCATE)").get();
    this.db.close(true);
    tightenDbFiles(this.path);
    return result !== null && result.busy === 0;
  }
}
