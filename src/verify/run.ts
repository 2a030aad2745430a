// The verify use case: open the source and key, verify each chain, return a report.
import { loadPublicKey } from "../keys/key-files.ts";
import { StoreReader } from "../store/reader.ts";
import { VerifyPool } from "./pool.ts";
import { endProgress, progressReporter } from "./progress.ts";
import type { VerifyReport } from "./report.ts";
import { firstChainId, jsonLines, rowBatches } from "./sources.ts";
import { verifyBatches, verifyChain, type ChainResult } from "./verify-chain.ts";
import { UserFacingError } from "../errors.ts";

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
  const chains: ChainResult[] = [];
  try {
    if (reader === null) {
      const file = req.file!;
      const chainId = await firstChainId(file);
      const result = await verifyChain(chainId, jsonLines(file), pool, { onProgress: progressReporter(chainId, undefined) });
      endProgress();
      if (req.chain !== undefined && result.chainId !== req.chain) throw new UnknownChainError(`file ${file} holds chain ${result.chainId}, not ${req.chain}`);
      chains.push(result);
    } else {
      const summaries = reader.chains();
      const selected = req.chain === undefined ? summaries : summaries.filter((s) => s.chainId === req.chain);
      if (req.chain !== undefined && selected.length === 0) {
        const known = summaries.map((s) => s.chainId).slice(0, 10).join(", ");
        throw new UnknownChainError(`no chain "${req.chain}" in ${req.db}${known === "" ? " (the database has no chains)" : `; chains: ${known}`}`);
      }
      for (const s of selected) {
        chains.push(await verifyBatches(s.chainId, rowBatches(reader, s.chainId), pool, { onProgress: progressReporter(s.chainId, s.count) }));
        endProgress();
      }
    }
  } finally {
    pool.close();
    reader?.close();
  }
  return {
    valid: chains.every((c) => c.valid),
    source: req.file === undefined ? { db: req.db! } : { file: req.file },
    publicKey: { path: req.publicKeyPath, fingerprint: key.fingerprint },
    chains,
  };
}
