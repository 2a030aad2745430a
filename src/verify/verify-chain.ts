// Streams one chain through the worker pool and the in-order rules. Takes
// batches from any source, so --db and --file share it. Memory is bounded by
// the batches in flight, not by the chain length (keyed receipts aside, see
// retries.ts).
import { ChainRules, type ChainBreak, type ChainStatusVerdict } from "./chain-rules.ts";
import type { VerifyPool } from "./pool.ts";
import type { BatchJob, BatchResult, BatchTally, KeyedReceipts } from "./pool-messages.ts";
import { DEFAULT_BATCH, jsonBatches, SourceError } from "./sources.ts";

export interface ChainResult {
  chainId: string;
  valid: boolean;
  count: number;
  status: ChainStatusVerdict;
  break?: ChainBreak;
  /** Over the receipts checked: all of them while none verifies, so a wrong key is told from tampering. */
  tally: BatchTally;
  /** The sequence of the first receipt, when it has one. */
  firstSequence?: number;
  /** proof.verificationMethod of the first receipt seen whose signature failed. */
  verificationMethod?: string;
  /** A segment: the chain as given starts at this sequence (> 1) and its first link is not anchored. */
  unanchoredFrom?: number;
  /** The events_dropped receipts in the verified part of the chain and the events they say were lost, when there are any. */
  dropped?: { receipts: number; events: number };
}

export interface VerifyChainOptions {
  batchSize?: number;
  /** Called with the number of receipts checked so far, at most once per batch. */
  onProgress?: (checked: number) => void;
  /** Called per batch, in order, with its keyed receipts and the index below which the chain verified so far. */
  onKeyed?: (keyed: KeyedReceipts, limit: number) => void;
  /** The receipts may be a part of a chain starting after sequence 1 (a file exported for a time window). */
  partial?: boolean;
}

/** True when receipts were checked and not one verifies under the key, though some carry a well-formed signature. */
export function keyMismatch(r: ChainResult): boolean {
  return !r.valid && r.tally.verified === 0 && r.tally.badSignatures > 0;
}

/** Verifies a chain given as batches (see sources.ts), in order, with the checks spread over the pool. */
export async function verifyBatches(
  chainId: string,
  batches: Iterable<BatchJob> | AsyncIterable<BatchJob>,
  pool: VerifyPool,
  options: VerifyChainOptions = {},
): Promise<ChainResult> {
  const maxInFlight = pool.size * 2;
  const rules = new ChainRules(options.partial);
  const inFlight: Array<Promise<BatchResult>> = [];
  const tally: BatchTally = { verified: 0, badSignatures: 0, receiptLike: 0 };
  let firstSequence: number | undefined;
  let verificationMethod: string | undefined;
  let total = 0;
  const dropped = { receipts: 0, events: 0 };

  const drainOne = async (): Promise<void> => {
    const { segment, tally: t, keyed, drops } = await inFlight.shift()!;
    if (rules.count === 0 && typeof segment.head.sequence === "number") firstSequence = segment.head.sequence;
    rules.acceptSegment(segment);
    tally.verified += t.verified;
    tally.badSignatures += t.badSignatures;
    tally.receiptLike += t.receiptLike;
    verificationMethod ??= segment.head.verificationMethod ?? segment.tail.verificationMethod;
    const limit = rules.broken === null ? Infinity : rules.broken.index;
    options.onKeyed?.(keyed, limit);
    // Like retries, only the verified part counts: a drop receipt at or after a break proves nothing.
    drops.indexes.forEach((index, k) => {
      if (index >= limit) return;
      dropped.receipts++;
      dropped.events += drops.events[k]!;
    });
    options.onProgress?.(rules.count);
  };
  const check = async (job: BatchJob, base: number): Promise<BatchResult> => {
    const result = await pool.check(job.source, base);
    if (result.segment.count !== job.count) {
      throw new SourceError(`chain ${chainId} changed while it was being verified (expected ${job.count} receipts in a batch, read ${result.segment.count}); run verify again`);
    }
    return result;
  };

  for await (const job of batches) {
    // After a break, checking goes on only while no receipt has verified: a
    // key that verifies nothing is told from tampering by reading to the end.
    if (rules.broken === null || tally.verified === 0) {
      const pending = check(job, total);
      pending.catch(() => {}); // observed when drained; avoid an "unhandled" report before that
      inFlight.push(pending);
      if (inFlight.length >= maxInFlight) await drainOne();
    }
    total += job.count; // keep counting once broken, stop checking
  }
  while (inFlight.length > 0) await drainOne();

  const result: ChainResult = { chainId, valid: rules.broken === null, count: total, status: rules.broken === null ? rules.status : "unknown", tally };
  if (rules.broken !== null) result.break = rules.broken;
  if (firstSequence !== undefined) result.firstSequence = firstSequence;
  if (verificationMethod !== undefined) result.verificationMethod = verificationMethod;
  if (rules.unanchoredFrom !== undefined) result.unanchoredFrom = rules.unanchoredFrom;
  if (dropped.receipts > 0) result.dropped = dropped;
  return result;
}

/** Verifies a chain given as receipt JSON texts. */
export function verifyChain(
  chainId: string,
  receipts: Iterable<string> | AsyncIterable<string>,
  pool: VerifyPool,
  options: VerifyChainOptions = {},
): Promise<ChainResult> {
  return verifyBatches(chainId, jsonBatches(receipts, options.batchSize ?? DEFAULT_BATCH), pool, options);
}
