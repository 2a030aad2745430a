// How verification results are shown: one block per chain for people, one
// object for scripts.
import { REASON_TEXT } from "./chain-rules.ts";
import type { ChainResult } from "./verify-chain.ts";

export interface VerifyReport {
  valid: boolean;
  source: { db?: string; file?: string };
  publicKey: { path: string; fingerprint: string };
  chains: ChainResult[];
}

export function statusText(result: ChainResult): string {
  return result.status === "unknown" ? "unknown (tail completeness not proven)" : result.status;
}

export function formatHuman(report: VerifyReport): string {
  const lines: string[] = [];
  if (report.chains.length === 0) {
    lines.push(`no chains in ${report.source.db ?? report.source.file}: nothing to verify`);
  }
  for (const r of report.chains) {
    const noun = r.count === 1 ? "receipt" : "receipts";
    lines.push(`${r.valid ? "VALID " : "BROKEN"}  chain ${r.chainId}  ${r.count} ${noun}  status: ${statusText(r)}`);
    if (r.break !== undefined) {
      const b = r.break;
      const also = b.reasons.slice(1).map((x) => REASON_TEXT[x]);
      lines.push(
        `  break at index ${b.index} (sequence ${b.sequence ?? "?"}, receipt ${b.receiptId || "?"}): ${REASON_TEXT[b.reason]}` +
          (also.length > 0 ? ` (also: ${also.join(", ")})` : ""),
      );
      if (b.detail !== "") lines.push(`  ${b.detail}`);
    }
  }
  const broken = report.chains.filter((c) => !c.valid).length;
  lines.push(
    broken === 0
      ? `${report.chains.length} chain(s) verified with key ${report.publicKey.fingerprint}`
      : `${broken} of ${report.chains.length} chain(s) BROKEN (key ${report.publicKey.fingerprint})`,
  );
  return `${lines.join("\n")}\n`;
}

export function formatJson(report: VerifyReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
