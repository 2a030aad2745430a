// Retries: receipts that share an idempotency key and the stage of the call
// they record (an emitter sent the same event again, e.g. after a lost
// confirmation). A call's pending, interim and final receipts share its key
// (as mcp-proxy's do) without being retries. Not an error: each is a real,
// signed receipt; readers that count events must count such a group once.
//
// The verifier keeps 16 bytes per keyed receipt (a 64-bit hash of the key and
// where the receipt is), never the keys themselves, so memory stays small on
// long chains (16 MB per million); the few keys that repeat are read back
// afterwards.

/** Which receipt of a call: before it ran (`pending`), an answer asking for more (`interim`), or how it ended (`final`). */
export type Stage = "pending" | "interim" | "final";

/** What makes two receipts one event sent twice. */
export interface EventKey {
  idempotencyKey: string;
  stage: Stage;
}

/** A pending outcome with a response is an interim answer (an MCP `input_required` result); any other status ends the call. */
export function stageOf(outcome: { status?: unknown; response_hash?: unknown } | undefined): Stage {
  if (outcome?.status !== "pending") return "final";
  return outcome.response_hash === undefined ? "pending" : "interim";
}

/** The receipt's event key, when it has an idempotency key. */
export function eventKeyOf(subject: { action?: { idempotency_key?: unknown }; outcome?: { status?: unknown; response_hash?: unknown } } | undefined): EventKey | undefined {
  const key = subject?.action?.idempotency_key;
  return typeof key === "string" ? { idempotencyKey: key, stage: stageOf(subject?.outcome) } : undefined;
}

/** One string per event key: receipts with the same one are one event. */
function eventId(k: EventKey): string {
  return `${k.stage}\0${k.idempotencyKey}`;
}

/** A 64-bit hash of an event key. */
export function keyHash(k: EventKey): bigint {
  return Bun.hash.wyhash(eventId(k));
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
  stage: Stage;
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
 * Exact groups from candidate groups, given each receipt's event key as read
 * back (undefined when it can no longer be read). A key that no longer has the
 * verified hash belongs to a row changed since: it is left out.
 */
export function exactGroups(candidates: Candidate[], keyOf: (p: ReceiptPlace) => EventKey | undefined): RetryGroup<ReceiptPlace>[] {
  const groups: RetryGroup<ReceiptPlace>[] = [];
  for (const candidate of candidates) {
    const byKey = new Map<string, RetryGroup<ReceiptPlace>>();
    for (const p of candidate.places) {
      const key = keyOf(p);
      if (key === undefined || keyHash(key) !== candidate.hash) continue;
      const id = eventId(key);
      const group = byKey.get(id);
      if (group === undefined) byKey.set(id, { idempotencyKey: key.idempotencyKey, stage: key.stage, receipts: [p] });
      else group.receipts.push(p);
    }
    for (const group of byKey.values()) if (group.receipts.length > 1) groups.push(group);
  }
  return groups;
}
