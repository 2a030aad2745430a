// The writer's view of the tree: the last (partial) tile of every level in
// memory, so appending a leaf costs about two hashes and a batch rewrites
// only the tiles it touched. Staged appends are taken back when the
// transaction that stores them fails.
import { HASH_SIZE } from "./merkle.ts";
import { foldHashes, hashAt, TILE_WIDTH, type TileSource } from "./tree-hashes.ts";

interface Edge {
  index: number;
  hashes: Uint8Array[];
}

export interface TileWrite {
  level: number;
  index: number;
  hashes: Uint8Array;
}

interface State {
  size: number;
  edges: Edge[];
  /** Tiles completed since the batch began: final, written once. */
  completed: Map<string, TileWrite>;
  /** Levels whose last tile changed since the batch began. */
  touched: boolean[];
}

function concat(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((h, i) => out.set(h, i * HASH_SIZE));
  return out;
}

const key = (level: number, index: number) => `${level}/${index}`;

export class TreeAppender implements TileSource {
  private state: State;
  private saved: State | null = null;

  /** Resumes a stored tree of `size` leaves; `stored` reads tiles already in the database. */
  constructor(size: number, private readonly stored: TileSource) {
    const edges: Edge[] = [];
    let entries = size;
    for (let level = 0; entries > 0; level++) {
      const index = Math.floor(entries / TILE_WIDTH);
      const width = entries - index * TILE_WIDTH;
      const hashes: Uint8Array[] = [];
      if (width > 0) {
        const tile = stored.tile(level, index);
        if (tile === null || tile.length < width * HASH_SIZE) throw new Error(`stored tree of size ${size} lacks tile ${level}/${index}`);
        for (let i = 0; i < width; i++) hashes.push(hashAt(tile, i).slice());
      }
      edges.push({ index, hashes });
      entries = Math.floor(entries / TILE_WIDTH);
    }
    this.state = { size, edges, completed: new Map(), touched: [] };
  }

  get size(): number {
    return this.state.size;
  }

  append(leaf: Uint8Array): number {
    const s = this.state;
    const index = s.size;
    let hash = leaf;
    for (let level = 0; ; level++) {
      let edge = s.edges[level];
      if (edge === undefined) {
        edge = { index: 0, hashes: [] };
        s.edges[level] = edge;
      }
      edge.hashes.push(hash);
      s.touched[level] = true;
      if (edge.hashes.length < TILE_WIDTH) break;
      // The tile is complete: it is final, and its root is the next level's entry.
      s.completed.set(key(level, edge.index), { level, index: edge.index, hashes: concat(edge.hashes) });
      hash = foldHashes(edge.hashes);
      s.edges[level] = { index: edge.index + 1, hashes: [] };
    }
    s.size++;
    return index;
  }

  tile(level: number, index: number): Uint8Array | null {
    const edge = this.state.edges[level];
    if (edge !== undefined && edge.index === index) return edge.hashes.length === 0 ? null : concat(edge.hashes);
    const w = this.state.completed.get(key(level, index));
    if (w !== undefined) return w.hashes;
    return this.stored.tile(level, index);
  }

  /** Begins a batch: take() or restore() ends it. */
  stage(): void {
    this.saved = {
      size: this.state.size, edges: this.state.edges.map((e) => ({ index: e.index, hashes: e.hashes.slice() })), completed: new Map(), touched: [],
    };
    this.state.completed = new Map();
    this.state.touched = [];
  }

  /** The tiles the batch touched, with their current contents, to write in its transaction. */
  pendingWrites(): TileWrite[] {
    const out = [...this.state.completed.values()];
    this.state.edges.forEach((edge, level) => {
      if (this.state.touched[level] === true && edge.hashes.length > 0) out.push({ level, index: edge.index, hashes: concat(edge.hashes) });
    });
    return out;
  }

  /** The batch's transaction committed (or, without a transaction, its writes are no longer needed). */
  take(): void {
    this.saved = null;
    this.state.completed = new Map();
    this.state.touched = [];
  }

  /** The batch's transaction failed: forget its leaves. */
  restore(): void {
    if (this.saved !== null) this.state = this.saved;
    this.saved = null;
  }
}
