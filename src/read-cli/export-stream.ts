// Streams an export: chain after chain, each in sequence order, the stored
// receipts unchanged as JSON Lines, in pages (memory stays flat whatever the
// size) and with counts per chain for the manifest and the progress line.
import type { ReceiptFilter } from "../query/filter.ts";
import type { ChainSlice, ReceiptReader } from "../query/reader.ts";
import type { Output } from "./output.ts";

export interface ExportedChain {
  chainId: string;
  firstSequence: number;
  lastSequence: number;
  receipts: number;
  /** The chain's last receipt is a terminator and it was exported. */
  endsWithTerminator: boolean;
}

export interface ExportResult {
  receipts: number;
  chains: ExportedChain[];
}

export function streamExport(
  reader: ReceiptReader, plan: readonly ChainSlice[], filter: ReceiptFilter, out: Output, onProgress?: (receipts: number) => void,
): ExportResult {
  const chains: ExportedChain[] = [];
  let total = 0;
  for (const s of plan) {
    let first: number | undefined;
    let last = 0;
    let n = 0;
    for (const r of reader.slice(s, filter)) {
      out.write(`${r.json}\n`);
      first ??= r.sequence;
      last = r.sequence;
      n++;
      if (++total % 10_000 === 0) onProgress?.(total);
    }
    if (first !== undefined) {
      chains.push({ chainId: s.chain.chainId, firstSequence: first, lastSequence: last, receipts: n, endsWithTerminator: s.chain.terminal && last === s.chain.lastSequence });
    }
  }
  out.flush();
  onProgress?.(total);
  return { receipts: total, chains };
}
