// After verification: reads back the few receipts whose key hashes repeat,
// to name their keys and group them exactly.
import type { StoreReader } from "../store/reader.ts";
import { eventKeyOf, exactGroups, type EventKey, type RetryGroup, type RetryTracker, type ReceiptPlace } from "./retries.ts";
import { jsonLines } from "./sources.ts";
import type { ChainResult } from "./verify-chain.ts";

export interface RetryReceipt {
  chainId: string;
  sequence: number;
}

function keyIn(json: string | null | undefined): EventKey | undefined {
  if (json === null || json === undefined) return undefined;
  try {
    return eventKeyOf((JSON.parse(json) as { credentialSubject?: Parameters<typeof eventKeyOf>[0] }).credentialSubject);
  } catch {
    return undefined;
  }
}

/** Keyed receipts are only recorded in the verified part of a chain, where sequences run on from the first. */
function sequenceOf(chains: ChainResult[], p: ReceiptPlace): number {
  return chains[p.chain]!.firstSequence! + p.index;
}

export async function findRetries(
  tracker: RetryTracker, chains: ChainResult[], source: { reader: StoreReader } | { file: string; lineOffsets: number[] },
): Promise<RetryGroup<RetryReceipt>[]> {
  const candidates = tracker.candidates();
  if (candidates.length === 0) return [];
  let keyOf: (p: ReceiptPlace) => EventKey | undefined;
  if ("reader" in source) {
    keyOf = (p) => keyIn(source.reader.receiptJsonAt(chains[p.chain]!.chainId, sequenceOf(chains, p)));
  } else {
    // A file holds chain after chain: a receipt's line is its chain's first line plus its index. One more pass reads them.
    const lineOf = (p: ReceiptPlace) => source.lineOffsets[p.chain]! + p.index;
    const wanted = new Set(candidates.flatMap((c) => c.places.map(lineOf)));
    const lines = new Map<number, string>();
    let index = 0;
    for await (const line of jsonLines(source.file)) {
      if (wanted.has(index)) lines.set(index, line);
      index++;
    }
    keyOf = (p) => keyIn(lines.get(lineOf(p)));
  }
  return exactGroups(candidates, keyOf).map((g) => ({
    idempotencyKey: g.idempotencyKey,
    stage: g.stage,
    receipts: g.receipts.map((p) => ({ chainId: chains[p.chain]!.chainId, sequence: sequenceOf(chains, p) })),
  }));
}
