// The reader's side of the transparency log: roots and inclusion and
// consistency proofs for any size, from stored tiles (a few point reads,
// never the log), and which leaf a receipt is.
import type { Database } from "bun:sqlite";
import { receiptLeaf } from "../tlog/leaf.ts";
import { equalHashes } from "../tlog/merkle.ts";
import { TreeHashes } from "../tlog/tree-hashes.ts";
import { hasTlogTables, TlogTables, type StoredCheckpoint, type StoredCosignature } from "./tlog-tables.ts";

export class TreeStore {
  readonly tables: TlogTables;
  readonly hashes: TreeHashes;
  private sizeCache: number | null = null;

  /** Null when the database has no log tables yet (written before them, and no daemon of this version has started on it). */
  static open(db: Database): TreeStore | null {
    return hasTlogTables(db) ? new TreeStore(db) : null;
  }

  private constructor(readonly db: Database) {
    this.tables = new TlogTables(db, true);
    this.hashes = new TreeHashes(this.tables);
  }

  /** Runs `fn` in one read transaction, so the tree, the receipts and the checkpoints are one consistent state. */
  snapshot<T>(fn: () => T): T {
    this.db.run("BEGIN");
    try {
      return fn();
    } finally {
      this.db.run("COMMIT");
    }
  }

  get size(): number {
    this.sizeCache ??= this.tables.size();
    return this.sizeCache;
  }

  root(size: number): Uint8Array {
    return this.hashes.root(size);
  }

  inclusionProof(index: number, size: number): Uint8Array[] {
    return this.hashes.inclusionProof(index, size);
  }

  consistencyProof(size1: number, size2: number): Uint8Array[] {
    return this.hashes.consistencyProof(size1, size2);
  }

  /**
   * The leaf holding the receipt of `rowid` whose receipt_hash column is
   * `receiptHash`: the leaf its run says, checked against the stored leaf
   * hash. Null when no leaf of the tree holds it.
   */
  leafOf(rowid: number, receiptHash: unknown): number | null {
    const leaf = receiptLeaf(receiptHash);
    for (const index of this.tables.leavesOfRowid(rowid)) {
      if (index < this.size && equalHashes(this.hashes.node(0, index), leaf)) return index;
    }
    return null;
  }

  latestCheckpoint(): StoredCheckpoint | null {
    return this.tables.latestCheckpoint();
  }

  checkpoints(): StoredCheckpoint[] {
    return this.tables.checkpoints();
  }

  cosignatures(size: number): StoredCosignature[] {
    return this.tables.cosignatures(size);
  }
}
