// Retries: receipts that share an idempotency key (an emitter sent the same
// event again, e.g. after a lost confirmation). Not an error: each is a real,
// signed receipt; readers that count events must count such a group once.
//
// The verifier keeps 16 bytes per keyed receipt (a 64-bit hash of the key and
// where the receipt is), never the keys themselves, so memory stays small on
// long chains (16 MB per million); the few keys that repeat are read back
// afterwards.

/** A 64-bit hash of an idempotency key. */
export function keyHash(key: string): bigint {
  return Bun.hash.wyhash(key);
}

/** Where a receipt is: the chain's position in the report and the receipt's index in the chain. */
export interface ReceiptPlace {
  chain: number;
  index: number;
}

export interface Candidate {
  hash: bigint;
  places: ReceiptPlace[];
}

export interface RetryGroup<P> {
  idempotencyKey: string;
  /** In report order; the first is the original, the rest are retries. */
  receipts: P[];
}

/** Fixed-size chunks: memory grows by what is added, without the copies and slack of doubling. */
const CHUNK = 16384;

interface Chunk {
  hashes: BigUint64Array;
  chains: Uint32Array;
  indexes: Uint32Array;
}

export class RetryTracker {
  private readonly chunks: Chunk[] = [];
  private size = 0;

  /** Records keyed receipts of chain `chain` whose index is below `limit` (the verified part of the chain). */
  add(chain: number, hashes: BigUint64Array, indexes: Float64Array, limit: number): void {
    for (let i = 0; i < hashes.length && indexes[i]! < limit; i++) {
      // Past 2^32 receipts in one chain a place no longer fits 32 bits: not tracked.
      if (indexes[i]! > 0xffffffff) break;
      const at = this.size % CHUNK;
      if (at === 0) this.chunks.push({ hashes: new BigUint64Array(CHUNK), chains: new Uint32Array(CHUNK), indexes: new Uint32Array(CHUNK) });
      const c = this.chunks[this.chunks.length - 1]!;
      c.hashes[at] = hashes[i]!;
      c.chains[at] = chain;
      c.indexes[at] = indexes[i]!;
      this.size++;
    }
  }

  /** Receipts whose key hash is shared with another receipt, grouped by hash, in the order they were added. */
  candidates(): Candidate[] {
    const sorted = new BigUint64Array(this.size);
    this.chunks.forEach((c, k) => sorted.set(c.hashes.subarray(0, Math.min(CHUNK, this.size - k * CHUNK)), k * CHUNK));
    sorted.sort();
    const repeated = new Set<bigint>();
    for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) repeated.add(sorted[i]!);
    if (repeated.size === 0) return [];
    const groups = new Map<bigint, ReceiptPlace[]>();
    for (let i = 0; i < this.size; i++) {
      const c = this.chunks[Math.floor(i / CHUNK)]!;
      const h = c.hashes[i % CHUNK]!;
      if (!repeated.has(h)) continue;
      let g = groups.get(h);
      if (g === undefined) groups.set(h, (g = []));
      g.push({ chain: c.chains[i % CHUNK]!, index: c.indexes[i % CHUNK]! });
    }
    return [...groups].map(([hash, places]) => ({ hash, places }));
  }
}

/**
 * Exact groups from candidate groups, given each receipt's key as read back
 * (undefined when it can no longer be read). A key that no longer has the
 * verified hash belongs to a row changed since: it is left out.
 */
export function exactGroups(candidates: Candidate[], keyOf: (p: ReceiptPlace) => string | undefined): RetryGroup<ReceiptPlace>[] {
  const groups: RetryGroup<ReceiptPlace>[] = [];
  for (const candidate of candidates) {
    const byKey = new Map<string, ReceiptPlace[]>();
    for (const p of candidate.places) {
      const key = keyOf(p);
      if (key === undefined || keyHash(key) !== candidate.hash) continue;
      const members = byKey.get(key);
      if (members === undefined) byKey.set(key, [p]);
      else members.push(p);
    }
    for (const [idempotencyKey, receipts] of byKey) if (receipts.length > 1) groups.push({ idempotencyKey, receipts });
  }
  return groups;
}
