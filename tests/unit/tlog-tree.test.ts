// The stored tree: tiles appended by the writer give the RFC 6962 root and
// proofs for every size, through memory and through a real SQLite file.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { TreeAppender } from "../../src/tlog/appender.ts";
import { leafHash, rootOfLeaves, verifyConsistency, verifyInclusion } from "../../src/tlog/merkle.ts";
import { TreeHashes, type TileSource } from "../../src/tlog/tree-hashes.ts";
import { receiptLeaf } from "../../src/tlog/leaf.ts";
import { StoreWriter } from "../../src/store/writer.ts";
import { TreeStore } from "../../src/store/tree-store.ts";
import { makeChainDb, tempDir, writeKeyFiles } from "../helpers/fixtures.ts";
import { mth } from "../helpers/test-log.ts";

const leaf = (i: number) => leafHash(new TextEncoder().encode(`leaf ${i}`));

/** Tiles "stored" in a map, written the way the store writes them at each batch's end. */
class MapTiles implements TileSource {
  readonly tiles = new Map<string, Uint8Array>();
  tile(level: number, index: number): Uint8Array | null {
    return this.tiles.get(`${level}/${index}`) ?? null;
  }
}

function grow(sizes: number[]): { hashes: TreeHashes; leaves: Uint8Array[]; stored: MapTiles } {
  const stored = new MapTiles();
  let appender = new TreeAppender(0, stored);
  const leaves: Uint8Array[] = [];
  for (const target of sizes) {
    appender.stage();
    while (leaves.length < target) {
      leaves.push(leaf(leaves.length));
      appender.append(leaves[leaves.length - 1]!);
    }
    for (const w of appender.pendingWrites()) stored.tiles.set(`${w.level}/${w.index}`, w.hashes.slice());
    appender.take();
    // Resume from the stored tiles alone, as a restarted daemon does.
    appender = new TreeAppender(target, stored);
  }
  return { hashes: new TreeHashes(stored), leaves, stored };
}

describe("tree from tiles", () => {
  test("roots and every inclusion and consistency proof for sizes 1..80 verify, and match RFC 6962 §2.1", () => {
    const { hashes, leaves } = grow([1, 5, 16, 17, 31, 33, 64, 80]);
    for (let size = 1; size <= 80; size++) {
      const root = hashes.root(size);
      expect(root).toEqual(mth(leaves.slice(0, size)));
      for (let i = 0; i < size; i++) expect(verifyInclusion(i, size, leaves[i]!, hashes.inclusionProof(i, size), root)).toBe(true);
      for (let m = 1; m <= size; m++) {
        const proof = hashes.consistencyProof(m, size);
        expect(verifyConsistency(m, size, proof, hashes.root(m), root)).toBe(true);
      }
    }
  });

  test("a large tree (5,000 leaves in uneven batches) over several tile levels", () => {
    const sizes = [1, 255, 256, 257, 4095, 4096, 4097, 5000];
    const { hashes, leaves } = grow(sizes);
    for (const size of sizes) {
      const root = hashes.root(size);
      expect(root).toEqual(rootOfLeaves(leaves.slice(0, size)));
      for (const i of [0, size - 1, Math.floor(size / 3)]) expect(verifyInclusion(i, size, leaves[i]!, hashes.inclusionProof(i, size), root)).toBe(true);
    }
    expect(verifyConsistency(257, 5000, hashes.consistencyProof(257, 5000), hashes.root(257), hashes.root(5000))).toBe(true);
    // A wrong leaf or a proof for another size does not verify.
    expect(verifyInclusion(7, 5000, leaves[8]!, hashes.inclusionProof(7, 5000), hashes.root(5000))).toBe(false);
    expect(verifyInclusion(7, 5000, leaves[7]!, hashes.inclusionProof(7, 4999), hashes.root(5000))).toBe(false);
  });

  test("the root at the current size needs only the last tile of each level (what verify keeps in memory)", () => {
    const appender = new TreeAppender(0, { tile: () => null });
    const hashes = new TreeHashes(appender);
    const leaves: Uint8Array[] = [];
    for (let i = 0; i < 4500; i++) {
      leaves.push(leaf(i));
      appender.append(leaves[i]!);
      // Completed tiles are forgotten: a root that needed one would throw.
      appender.take();
      const size = i + 1;
      if (size <= 300 || size % 97 === 0 || size === 4096 || size === 4097) expect(hashes.root(size)).toEqual(rootOfLeaves(leaves));
    }
  });

  test("a restored batch leaves the tree as it was", () => {
    const stored = new MapTiles();
    const appender = new TreeAppender(0, stored);
    appender.stage();
    for (let i = 0; i < 20; i++) appender.append(leaf(i));
    for (const w of appender.pendingWrites()) stored.tiles.set(`${w.level}/${w.index}`, w.hashes.slice());
    appender.take();
    const before = new TreeHashes(appender).root(20);
    appender.stage();
    for (let i = 0; i < 30; i++) appender.append(leaf(1000 + i));
    appender.restore();
    expect(appender.size).toBe(20);
    expect(new TreeHashes(appender).root(20)).toEqual(before);
    appender.stage();
    appender.append(leaf(20));
    expect(new TreeHashes(appender).root(21)).toEqual(rootOfLeaves([...Array.from({ length: 21 }, (_, i) => leaf(i))]));
  });
});

describe("tree in the database", () => {
  test("the store extends the tree with every committed receipt, in commit order, and a reopened store continues it", () => {
    const dir = tempDir();
    const keys = writeKeyFiles(dir);
    const db = join(dir, "receipts.db");
    makeChainDb(db, keys.privateKeyPem, 700, { batch: 97, chainId: "a" });
    makeChainDb(db, keys.privateKeyPem, 300, { batch: 50, chainId: "b", terminate: true });
    const conn = new Database(db, { readonly: true });
    const rows = conn.query<{ receipt_hash: string }, []>("SELECT receipt_hash FROM receipts ORDER BY rowid").all();
    expect(rows.length).toBe(1001);
    const tree = TreeStore.open(conn)!;
    expect(tree.size).toBe(1001);
    const leaves = rows.map((r) => receiptLeaf(r.receipt_hash));
    expect(tree.root(1001)).toEqual(rootOfLeaves(leaves));
    expect(tree.root(700)).toEqual(rootOfLeaves(leaves.slice(0, 700)));
    expect(tree.tables.runs()).toEqual([{ firstLeaf: 0, firstRowid: 1, count: 1001 }]);
    expect(tree.leafOf(701, rows[700]!.receipt_hash)).toBe(700);
    conn.close();
  });

  test("a database from before the tree gets its leaves, in commit order, when the store opens it", () => {
    const dir = tempDir();
    const keys = writeKeyFiles(dir);
    const db = join(dir, "receipts.db");
    makeChainDb(db, keys.privateKeyPem, 10, { chainId: "x" });
    // What an older version left: the receipts table alone.
    const conn0 = new Database(db);
    conn0.run("DROP TABLE tlog_tiles; DROP TABLE tlog_runs; DROP TABLE tlog_checkpoints; DROP TABLE tlog_cosignatures;");
    expect(TreeStore.open(conn0)).toBeNull();
    conn0.close();
    const store = new StoreWriter(db);
    expect(store.tlog!.size).toBe(0);
    const filled = store.tlog!.backfill();
    expect(filled).toMatchObject({ leaves: 10, fromSize: 0 });
    expect(store.tlog!.backfill()).toBeNull();
    store.close();
    const conn = new Database(db, { readonly: true });
    const leaves = conn.query<{ receipt_hash: string }, []>("SELECT receipt_hash FROM receipts ORDER BY rowid").all().map((r) => receiptLeaf(r.receipt_hash));
    expect(TreeStore.open(conn)!.root(10)).toEqual(rootOfLeaves(leaves));
    conn.close();
  });
});
