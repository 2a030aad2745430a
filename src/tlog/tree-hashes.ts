// Roots and RFC 6962 proofs for any tree size, computed from stored tiles:
// tile (L, i) holds the hashes of nodes at level L*TILE_HEIGHT with indexes
// i*TILE_WIDTH .. i*TILE_WIDTH+15 (the last tile of a level may be partial).
// Any full subtree's hash is at most TILE_HEIGHT-1 levels of hashing above
// one stored tile, so a proof reads one tile per level, never the log.
import { EMPTY_ROOT, HASH_SIZE, nodeHash, splitPoint } from "./merkle.ts";

export const TILE_HEIGHT = 4;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;

/** Where tiles come from: the database, or the writer's memory over it. */
export interface TileSource {
  /** The tile's hashes concatenated (32 bytes each, possibly fewer than TILE_WIDTH), or null when absent. */
  tile(level: number, index: number): Uint8Array | null;
}

export class TreeDataError extends Error {}

export function hashAt(tile: Uint8Array, offset: number): Uint8Array {
  return tile.subarray(offset * HASH_SIZE, (offset + 1) * HASH_SIZE);
}

/** Folds 2^k consecutive hashes into their subtree's root. */
export function foldHashes(hashes: readonly Uint8Array[]): Uint8Array {
  let row = hashes.slice();
  while (row.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(nodeHash(row[i]!, row[i + 1]!));
    row = next;
  }
  return row[0]!;
}

export class TreeHashes {
  constructor(private readonly source: TileSource) {}

  /** The hash of the full subtree of 2^level leaves starting at leaf index*2^level. */
  node(level: number, index: number): Uint8Array {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const above = level - tileLevel * TILE_HEIGHT;
    const span = 2 ** above;
    const first = index * span;
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const offset = first - tileIndex * TILE_WIDTH;
    const tile = this.source.tile(tileLevel, tileIndex);
    if (tile === null || tile.length < (offset + span) * HASH_SIZE) {
      throw new TreeDataError(`the stored tree lacks tile ${tileLevel}/${tileIndex} entries ${offset}..${offset + span - 1} (node ${level}/${index})`);
    }
    if (span === 1) return hashAt(tile, offset).slice();
    const row: Uint8Array[] = [];
    for (let i = 0; i < span; i++) row.push(hashAt(tile, offset + i));
    return foldHashes(row);
  }

  /** MTH(D[start:end]) for a range that starts on a multiple of a power of two covering it (all proof ranges do). */
  range(start: number, end: number): Uint8Array {
    const n = end - start;
    if (n <= 0) throw new TreeDataError(`empty range ${start}..${end}`);
    if (isAlignedPowerOfTwo(start, n)) return this.node(Math.log2(n), start / n);
    const k = splitPoint(n);
    return nodeHash(this.range(start, start + k), this.range(start + k, end));
  }

  root(size: number): Uint8Array {
    return size === 0 ? EMPTY_ROOT : this.range(0, size);
  }

  /** RFC 6962 PATH(index, D[0:size]): leaf's sibling first, root's child last. */
  inclusionProof(index: number, size: number): Uint8Array[] {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new TreeDataError(`leaf ${index} is not in a tree of size ${size}`);
    const out: Uint8Array[] = [];
    const path = (start: number, end: number): void => {
      if (end - start === 1) return;
      const k = splitPoint(end - start);
      if (index < start + k) {
        path(start, start + k);
        out.push(this.range(start + k, end));
      } else {
        path(start + k, end);
        out.push(this.range(start, start + k));
      }
    };
    path(0, size);
    return out;
  }

  /** RFC 6962 PROOF(size1, D[0:size2]). */
  consistencyProof(size1: number, size2: number): Uint8Array[] {
    if (!Number.isSafeInteger(size1) || size1 < 0 || size1 > size2) throw new TreeDataError(`no consistency proof from size ${size1} to ${size2}`);
    if (size1 === 0 || size1 === size2) return [];
    const out: Uint8Array[] = [];
    const sub = (m: number, start: number, end: number, whole: boolean): void => {
      const n = end - start;
      if (m === n) {
        if (!whole) out.push(this.range(start, end));
        return;
      }
      const k = splitPoint(n);
      if (m <= k) {
        sub(m, start, start + k, whole);
        out.push(this.range(start + k, end));
      } else {
        sub(m - k, start + k, end, false);
        out.push(this.range(start, start + k));
      }
    };
    sub(size1, 0, size2, true);
    return out;
  }
}

function isAlignedPowerOfTwo(start: number, n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n && start % n === 0;
}
