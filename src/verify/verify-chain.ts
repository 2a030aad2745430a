// Streams one chain through the worker pool and the in-order rules. Takes
// batches from any source, so --db and --file share it. Memory is bounded by
// the batches in flight, not by the chain length.
import { ChainRules, type ChainBreak, type ChainStatusVerdict, type Segment } from "./chain-rules.ts";
import type { VerifyPool } from "./pool.ts";
import type { BatchJob } from "./pool-messages.ts";
import { DEFAULT_BATCH, jsonBatches, SourceError } from "./sources.ts";

export interface ChainResult {
  chainId: string;
  valid: boolean;
  count: number;
  status: ChainStatusVerdict;
  break?: ChainBreak;
}

export interface VerifyChainOptions {
  batchSize?: number;
  /** Called with the number of receipts checked so far, at most once per batch. */
  onProgress?: (checked: number) => void;
}

/** Verifies a chain given as batches (see sources.ts), in order, with the checks spread over the pool. */
export async function verifyBatches(
  chainId: string,
  batches: Iterable<BatchJob> | AsyncIterable<BatchJob>,
  pool: VerifyPool,
  options: VerifyChainOptions = {},
): Promise<ChainResult> {
  const maxInFlight = pool.size * 2;
  const rules = new ChainRules();
  const inFlight: Array<Promise<Segment>> = [];
  let total = 0;

  const drainOne = async (): Promise<void> => {
    rules.acceptSegment(await inFlight.shift()!);
    options.onProgress?.(rules.count);
  };
  const check = async (job: BatchJob, base: number): Promise<Segment> => {
    const segment = await pool.check(job.source, base);
    if (segment.count !== job.count) {
      throw new SourceError(`chain ${chainId} changed while it was being verified (expected ${job.count} receipts in a batch, read ${segment.count}); run verify again`);
    }
    return segment;
  };

  for await (const job of batches) {
    if (rules.broken === null) {
      const pending = check(job, total);
      pending.catch(() => {}); // observed when drained; avoid an "unhandled" report before that
      inFlight.push(pending);
      if (inFlight.length >= maxInFlight) await drainOne();
    }
    total += job.count; // keep counting once broken, stop checking
  }
  while (inFlight.length > 0) await drainOne();

  const result: ChainResult = { chainId, valid: rules.broken === null, count: total, status: rules.broken === null ? rules.status : "unknown" };
  if (rules.broken !== null) result.break = rules.broken;
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
