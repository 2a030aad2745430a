// Streams one chain through the worker pool and the in-order rules. Takes any
// (async) iterable of receipt JSON, so --db and --file share it. Memory is
// bounded by the batches in flight, not by the chain length.
import { ChainRules, type ChainBreak, type ChainStatusVerdict } from "./chain-rules.ts";
import type { VerifyPool } from "./pool.ts";

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

export async function verifyChain(
  chainId: string,
  receipts: Iterable<string> | AsyncIterable<string>,
  pool: VerifyPool,
  options: VerifyChainOptions = {},
): Promise<ChainResult> {
  const batchSize = options.batchSize ?? 512;
  const maxInFlight = pool.size * 2;
  const rules = new ChainRules();
  const inFlight: Array<Promise<import("./check-receipt.ts").CheckedReceipt[]>> = [];
  let total = 0;
  let batch: string[] = [];

  const drainOne = async (): Promise<void> => {
    const results = await inFlight.shift()!;
    for (const r of results) if (!rules.accept(r)) break;
    options.onProgress?.(rules.count);
  };

  for await (const json of receipts) {
    total++;
    if (rules.broken !== null) continue; // keep counting, stop checking
    batch.push(json);
    if (batch.length < batchSize) continue;
    inFlight.push(pool.check(batch));
    batch = [];
    if (inFlight.length >= maxInFlight) await drainOne();
  }
  if (batch.length > 0 && rules.broken === null) inFlight.push(pool.check(batch));
  while (inFlight.length > 0) await drainOne();

  const result: ChainResult = { chainId, valid: rules.broken === null, count: total, status: rules.broken === null ? rules.status : "unknown" };
  if (rules.broken !== null) result.break = rules.broken;
  return result;
}
