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
  written: Map<string, TileWrite>;
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
    this.state = { size, edges, written: new Map() };
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
      if (edge.hashes.length < TILE_WIDTH) {
        s.written.set(key(level, edge.index), { level, index: edge.index, hashes: new Uint8Array(0) });
        break;
      }
      // The tile is complete: it is final, and its root is the next level's entry.
      s.written.set(key(level, edge.index), { level, index: edge.index, hashes: concat(edge.hashes) });
      hash = foldHashes(edge.hashes);
      s.edges[level] = { index: edge.index + 1, hashes: [] };
    }
    s.size++;
    return index;
  }

  tile(level: number, index: number): Uint8Array | null {
    const edge = this.state.edges[level];
    if (edge !== undefined && edge.index === index) return edge.hashes.length === 0 ? null : concat(edge.hashes);
    const w = this.state.written.get(key(level, index));
    if (w !== undefined && w.hashes.length > 0) return w.hashes;
    return this.stored.tile(level, index);
  }

  /** Begins a batch: take() or restore() ends it. */
  stage(): void {
    this.saved = { size: this.state.size, edges: this.state.edges.map((e) => ({ index: e.index, hashes: e.hashes.slice() })), written: new Map() };
    this.state.written = new Map();
  }

  /** The tiles the batch touched, with their current contents, to write in its transaction. */
  pendingWrites(): TileWrite[] {
    const out: TileWrite[] = [];
    for (const w of this.state.written.values()) {
      out.push(w.hashes.length > 0 ? w : { level: w.level, index: w.index, hashes: this.tile(w.level, w.index) ?? new Uint8Array(0) });
    }
    return out.filter((w) => w.hashes.length > 0);
  }

  /** The batch's transaction committed. */
  take(): void {
    this.saved = null;
    this.state.written = new Map();
  }

  /** The batch's transaction failed: forget its leaves. */
  restore(): void {
    if (this.saved !== null) this.state = this.saved;
    this.saved = null;
  }
}
