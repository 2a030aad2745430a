// How verification results are shown: one block per chain for people, one
// object for scripts. The JSON is a stable interface (README "JSON output"):
// snake_case keys, fields only added, never renamed.
import { REASON_TEXT, type BreakReason } from "./chain-rules.ts";
import type { RetryReceipt } from "./find-retries.ts";
import { fingerprintNamedBy } from "./key-hint.ts";
import type { RetryGroup, Stage } from "./retries.ts";
import { keyMismatch, type ChainResult } from "./verify-chain.ts";
import { retryPlaces, stageNote, warningJson, warningsOf, warningText, type VerifyWarning, type WarningJson } from "./warnings.ts";

export interface VerifyReport {
  valid: boolean;
  source: { db?: string; file?: string };
  publicKey: { path: string; fingerprint: string };
  chains: ChainResult[];
  retries: RetryGroup<RetryReceipt>[];
}

export interface BreakJson {
  index: number;
  sequence: number | null;
  receipt_id: string;
  reason: BreakReason;
  reasons: BreakReason[];
  detail: string;
  columns?: string[];
}

export interface KeyMismatchJson {
  /** proof.verificationMethod of the receipts, when they have one. */
  verification_method: string | null;
  /** The fingerprint of the key that method names, when it names one. */
  fingerprint: string | null;
}

export interface ChainJson {
  chain_id: string;
  valid: boolean;
  count: number;
  status: ChainResult["status"];
  /** Receipts of this chain that repeat an earlier receipt's idempotency key. */
  retries: number;
  break?: BreakJson;
  key_mismatch?: KeyMismatchJson;
  /** A part of a chain (from an export of a time window): it starts at first_sequence and its first link is not anchored. */
  segment?: { first_sequence: number; first_link_anchored: false };
}

export interface VerifyJson {
  valid: boolean;
  /** Some chain has not one receipt that verifies under the key: most likely the wrong key (exit 2). */
  key_mismatch: boolean;
  source: { db?: string; file?: string };
  public_key: { path: string; fingerprint: string };
  chains: ChainJson[];
  retries: {
    count: number;
    groups: Array<{ idempotency_key: string; stage: Stage; receipts: Array<{ chain_id: string; sequence: number }> }>;
  };
  /** The source holds no receipts (an empty database or file): valid, with nothing checked. */
  nothing_to_verify: boolean;
  /** Advisories that leave `valid` as it is: no terminator, retried calls (each key once), dropped events. */
  warnings: WarningJson[];
}

export function statusText(result: ChainResult): string {
  return result.status === "unknown" ? "unknown (tail completeness not proven)" : result.status;
}

function namedKey(r: ChainResult): KeyMismatchJson {
  const method = r.verificationMethod ?? null;
  return { verification_method: method, fingerprint: method === null ? null : fingerprintNamedBy(method) };
}

/** Per chain, how many of its receipts repeat a key seen earlier (in report order). */
function retriesPerChain(report: VerifyReport): Map<string, number> {
  const counts = new Map<string, number>();
  for (const g of report.retries) {
    for (const r of g.receipts.slice(1)) counts.set(r.chainId, (counts.get(r.chainId) ?? 0) + 1);
  }
  return counts;
}

export function retryCount(report: VerifyReport): number {
  return report.retries.reduce((n, g) => n + g.receipts.length - 1, 0);
}

export function mismatchedChains(report: VerifyReport): ChainResult[] {
  return report.chains.filter(keyMismatch);
}

/** The one-line error for a key that verifies no receipt of some chain; null when there is none. */
export function keyMismatchMessage(report: VerifyReport): string | null {
  const chains = mismatchedChains(report);
  if (chains.length === 0) return null;
  const which = chains.length === 1
    ? `chain ${chains[0]!.chainId} (${chains[0]!.count} receipts)`
    : `${chains.length} chains (${chains.slice(0, 5).map((c) => c.chainId).join(", ")}${chains.length > 5 ? ", ..." : ""})`;
  const named = namedKey(chains[0]!);
  const theirs = named.fingerprint !== null
    ? `; they were signed by key ${named.fingerprint} (verification method ${named.verification_method})`
    : named.verification_method !== null ? `; their verification method ${named.verification_method} does not name the key` : "";
  return (
    `the public key ${report.publicKey.path} (${report.publicKey.fingerprint}) does not match the receipts: ` +
    `no receipt of ${which} verifies under it${theirs}. ` +
    "Pass --public-key with the key that signed them (agent-receipts keys show, where the daemon runs, prints it)."
  );
}

const MAX_RETRY_LINES = 20;

/** The warnings, retried calls as one block (a header, then each key once). */
function warningLines(report: VerifyReport, warnings: VerifyWarning[]): string[] {
  const lines = warnings.filter((w) => w.kind !== "retried_call").map((w) => `warning: ${warningText(w)}`);
  const n = retryCount(report);
  if (n === 0) return lines;
  lines.push(`warning: retries (not an error): ${n} ${n === 1 ? "receipt repeats" : "receipts repeat"} an earlier receipt's idempotency key`);
  for (const g of report.retries.slice(0, MAX_RETRY_LINES)) lines.push(`  key ${JSON.stringify(g.idempotencyKey)}${stageNote(g.stage)}: ${retryPlaces(g)}`);
  if (report.retries.length > MAX_RETRY_LINES) lines.push(`  ... and ${report.retries.length - MAX_RETRY_LINES} more keys (--json lists them all)`);
  return lines;
}

/** One line for a source without receipts: there is nothing to call valid or broken. */
function nothingToVerify(report: VerifyReport): string {
  const what = report.source.db !== undefined ? `database ${report.source.db} holds no receipts` : `file ${report.source.file} is empty (no line that is not blank)`;
  return `nothing to verify: ${what}\n`;
}

export function formatHuman(report: VerifyReport): string {
  if (report.chains.length === 0) return nothingToVerify(report);
  const lines: string[] = [];
  const warnings = warningsOf(report.chains, report.retries);
  const retries = retriesPerChain(report);
  for (const r of report.chains) {
    const noun = r.count === 1 ? "receipt" : "receipts";
    if (keyMismatch(r)) {
      const named = namedKey(r);
      lines.push(`WRONG KEY  chain ${r.chainId}  ${r.count} ${noun}: none verifies under this key`);
      if (named.verification_method !== null) {
        lines.push(`  the receipts name verification method ${named.verification_method}${named.fingerprint === null ? "" : ` (key ${named.fingerprint})`}`);
      }
      continue;
    }
    const retried = retries.get(r.chainId) ?? 0;
    lines.push(`${r.valid ? "VALID " : "BROKEN"}  chain ${r.chainId}  ${r.count} ${noun}  status: ${statusText(r)}${retried > 0 ? `  retries: ${retried}` : ""}`);
    if (r.unanchoredFrom !== undefined) {
      lines.push(`  segment starting at sequence ${r.unanchoredFrom}: its first link is not anchored (sequence ${r.unanchoredFrom - 1} is not in the file); everything after it is checked`);
    }
    if (r.break !== undefined) {
      const b = r.break;
      const also = b.reasons.slice(1).map((x) => (x === "column_mismatch" && b.columns !== undefined ? `${REASON_TEXT[x]}: ${b.columns.join(", ")}` : REASON_TEXT[x]));
      lines.push(
        `  break at index ${b.index} (sequence ${b.sequence ?? "?"}, receipt ${b.receiptId || "?"}): ${REASON_TEXT[b.reason]}` +
          (also.length > 0 ? ` (also: ${also.join(", ")})` : ""),
      );
      if (b.detail !== "") lines.push(`  ${b.detail}`);
    }
  }
  lines.push(...warningLines(report, warnings));
  const n = report.chains.length;
  const broken = report.chains.filter((c) => !c.valid && !keyMismatch(c)).length;
  const mismatched = mismatchedChains(report).length;
  const problems = [
    ...(broken > 0 ? [`${broken} of ${n} chain(s) BROKEN`] : []),
    ...(mismatched > 0 ? [`${mismatched} of ${n} chain(s) not signed by this key`] : []),
  ];
  const advised = warnings.length === 0 ? "" : `; ${warnings.length} ${warnings.length === 1 ? "warning" : "warnings"}`;
  lines.push(
    (problems.length === 0
      ? `${n} chain(s) verified with key ${report.publicKey.fingerprint}`
      : `${problems.join(", ")} (key ${report.publicKey.fingerprint})`) + advised,
  );
  return `${lines.join("\n")}\n`;
}

export function toJson(report: VerifyReport): VerifyJson {
  const retries = retriesPerChain(report);
  return {
    valid: report.valid,
    key_mismatch: mismatchedChains(report).length > 0,
    source: report.source,
    public_key: { path: report.publicKey.path, fingerprint: report.publicKey.fingerprint },
    chains: report.chains.map((r) => {
      const chain: ChainJson = { chain_id: r.chainId, valid: r.valid, count: r.count, status: r.status, retries: retries.get(r.chainId) ?? 0 };
      if (r.unanchoredFrom !== undefined) chain.segment = { first_sequence: r.unanchoredFrom, first_link_anchored: false };
      if (keyMismatch(r)) chain.key_mismatch = namedKey(r);
      else if (r.break !== undefined) {
        const b = r.break;
        chain.break = { index: b.index, sequence: b.sequence, receipt_id: b.receiptId, reason: b.reason, reasons: b.reasons, detail: b.detail };
        if (b.columns !== undefined) chain.break.columns = b.columns;
      }
      return chain;
    }),
    retries: {
      count: retryCount(report),
      groups: report.retries.map((g) => ({
        idempotency_key: g.idempotencyKey,
        stage: g.stage,
        receipts: g.receipts.map((r) => ({ chain_id: r.chainId, sequence: r.sequence })),
      })),
    },
    nothing_to_verify: report.chains.length === 0,
    warnings: warningsOf(report.chains, report.retries).map(warningJson),
  };
}

export function formatJson(report: VerifyReport): string {
  return `${JSON.stringify(toJson(report), null, 2)}\n`;
}
