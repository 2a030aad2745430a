// The verify use case: open the source and key, verify each chain, find the
// retries, return a report.
import { UserFacingError } from "../errors.ts";
import { loadPublicKey } from "../keys/key-files.ts";
import { StoreReader } from "../store/reader.ts";
import { findRetries } from "./find-retries.ts";
import { VerifyPool } from "./pool.ts";
import { endProgress, progressReporter } from "./progress.ts";
import type { VerifyReport } from "./report.ts";
import { RetryTracker } from "./retries.ts";
import { chainRuns } from "./file-chains.ts";
import { jsonLines, rowBatches, SourceError } from "./sources.ts";
import { verifyBatches, verifyChain, type ChainResult, type VerifyChainOptions } from "./verify-chain.ts";

export class UnknownChainError extends UserFacingError {}

export interface VerifyRequest {
  publicKeyPath: string;
  db?: string;
  file?: string;
  chain?: string;
  workers?: number;
}

export async function runVerify(req: VerifyRequest): Promise<VerifyReport> {
  const key = loadPublicKey(req.publicKeyPath);
  const reader = req.file === undefined ? new StoreReader(req.db!) : null;
  const pool = new VerifyPool(key.pem, req.workers);
  const tracker = new RetryTracker();
  const chains: ChainResult[] = [];
  /** With --file: the line each verified chain starts at (for reading retries back). */
  const lineOffsets: number[] = [];
  const options = (label: string, total: number | undefined): VerifyChainOptions => {
    const chain = chains.length;
    return {
      onProgress: progressReporter(label, total),
      onKeyed: (keyed, limit) => tracker.add(chain, keyed.hashes, keyed.indexes, limit),
    };
  };
  try {
    if (reader === null) {
      const file = req.file!;
      // An export holds chain after chain, each possibly a part (a time window): see file-chains.ts.
      const held: string[] = [];
      let line = 0;
      for await (const run of chainRuns(jsonLines(file))) {
        held.push(run.chainId);
        if (req.chain !== undefined && run.chainId !== req.chain) {
          for await (const _ of run.receipts) line++; // read past it
          continue;
        }
        const result = await verifyChain(run.chainId, run.receipts, pool, { ...options(run.chainId, undefined), partial: true });
        endProgress();
        checkReceiptsFile(file, result);
        lineOffsets.push(line);
        line += result.count;
        chains.push(result);
      }
      if (req.chain !== undefined && chains.length === 0) {
        throw new UnknownChainError(held.length === 0 ? `file ${file} is empty: it holds no chain ${req.chain}` : `file ${file} holds chain ${held.join(", ")}, not ${req.chain}`);
      }
    } else {
      const summaries = reader.chains();
      const selected = req.chain === undefined ? summaries : summaries.filter((s) => s.chainId === req.chain);
      if (req.chain !== undefined && selected.length === 0) {
        const known = summaries.map((s) => s.chainId).slice(0, 10).join(", ");
        throw new UnknownChainError(`no chain "${req.chain}" in ${req.db}${known === "" ? " (the database has no chains)" : `; chains: ${known}`}`);
      }
      for (const s of selected) {
        chains.push(await verifyBatches(s.chainId, rowBatches(reader, s.chainId), pool, options(s.chainId, s.count)));
        endProgress();
      }
    }
    return {
      valid: chains.every((c) => c.valid),
      source: req.file === undefined ? { db: req.db! } : { file: req.file },
      publicKey: { path: req.publicKeyPath, fingerprint: key.fingerprint },
      chains,
      retries: await findRetries(tracker, chains, reader === null ? { file: req.file!, lineOffsets } : { reader }),
    };
  } finally {
    pool.close();
    reader?.close();
  }
}

/**
 * A file given to --file whose lines are none of them receipts is a wrong
 * argument, not a broken chain. (An empty file has no runs: nothing to verify.)
 */
function checkReceiptsFile(file: string, result: ChainResult): void {
  const hint = "--file takes JSON Lines, one receipt per line, as exported from the database";
  if (result.tally.receiptLike === 0) {
    const first = result.break?.detail ? ` (the first line: ${result.break.detail})` : "";
    throw new SourceError(`${file} is not a receipts file: none of its ${result.count} lines is a receipt${first}. ${hint}`);
  }
}
