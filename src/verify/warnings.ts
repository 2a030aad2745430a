// Advisories: what verification found that leaves every chain as valid as it
// was, but that an auditor counting events should know (issue 10): a tail
// that cannot be proven complete, calls sent more than once, events the
// emitters lost before delivery.
import type { RetryReceipt } from "./find-retries.ts";
import type { RetryGroup, Stage } from "./retries.ts";
import type { ChainResult } from "./verify-chain.ts";

export type VerifyWarning =
  /** A valid chain that does not end with a terminator; lastSequence is its last receipt's. */
  | { kind: "no_terminator"; chainId: string; lastSequence: number | null }
  /** events_dropped receipts in the verified part of a chain, and the events they say were lost. */
  | { kind: "events_dropped"; chainId: string; receipts: number; events: number }
  /** One idempotency key carried by several receipts; chainId is the original's chain. */
  | { kind: "retried_call"; chainId: string; group: RetryGroup<RetryReceipt> };

export type WarningJson =
  | { kind: "no_terminator"; chain_id: string; last_sequence: number | null; message: string }
  | { kind: "events_dropped"; chain_id: string; receipts: number; events: number; message: string }
  | { kind: "retried_call"; chain_id: string; idempotency_key: string; stage: Stage; retries: number; message: string };

/** Per chain in report order: no terminator, dropped events, then each key first seen in that chain (once). */
export function warningsOf(chains: ChainResult[], retries: RetryGroup<RetryReceipt>[]): VerifyWarning[] {
  const keysByChain = new Map<string, RetryGroup<RetryReceipt>[]>();
  for (const g of retries) {
    const chainId = g.receipts[0]!.chainId;
    const groups = keysByChain.get(chainId);
    if (groups === undefined) keysByChain.set(chainId, [g]);
    else groups.push(g);
  }
  const warnings: VerifyWarning[] = [];
  for (const c of chains) {
    // A broken chain's status is unknown because of its break, which is already an error.
    if (c.valid && c.status === "unknown") {
      warnings.push({ kind: "no_terminator", chainId: c.chainId, lastSequence: c.firstSequence === undefined ? null : c.firstSequence + c.count - 1 });
    }
    if (c.dropped !== undefined) warnings.push({ kind: "events_dropped", chainId: c.chainId, ...c.dropped });
    for (const group of keysByChain.get(c.chainId) ?? []) warnings.push({ kind: "retried_call", chainId: c.chainId, group });
  }
  return warnings;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Where a key's receipts are: "chain a sequences 2, 5; chain b sequence 1". */
/** Names the stage of a retried receipt unless it is the usual, final one. */
export function stageNote(stage: Stage): string {
  return stage === "final" ? "" : ` (${stage} receipts)`;
}

export function retryPlaces(group: RetryGroup<RetryReceipt>): string {
  const byChain = new Map<string, number[]>();
  for (const r of group.receipts) {
    const seqs = byChain.get(r.chainId);
    if (seqs === undefined) byChain.set(r.chainId, [r.sequence]);
    else seqs.push(r.sequence);
  }
  return [...byChain].map(([c, seqs]) => `chain ${c} ${seqs.length === 1 ? "sequence" : "sequences"} ${seqs.join(", ")}`).join("; ");
}

export function warningText(w: VerifyWarning): string {
  switch (w.kind) {
    case "no_terminator":
      return (
        `chain ${w.chainId} has no terminator: tail completeness not proven${w.lastSequence === null ? "" : ` after sequence ${w.lastSequence}`} ` +
        "(receipts after it may be missing; normal while the daemon is still writing the chain)"
      );
    case "events_dropped":
      return `chain ${w.chainId}: emitters reported ${plural(w.events, "event", "events")} lost before delivery (${plural(w.receipts, "events_dropped receipt", "events_dropped receipts")})`;
    case "retried_call":
      return `idempotency key ${JSON.stringify(w.group.idempotencyKey)}${stageNote(w.group.stage)} was sent ${w.group.receipts.length} times (a retried call): ${retryPlaces(w.group)}`;
  }
}

export function warningJson(w: VerifyWarning): WarningJson {
  const message = warningText(w);
  switch (w.kind) {
    case "no_terminator":
      return { kind: w.kind, chain_id: w.chainId, last_sequence: w.lastSequence, message };
    case "events_dropped":
      return { kind: w.kind, chain_id: w.chainId, receipts: w.receipts, events: w.events, message };
    case "retried_call":
      return { kind: w.kind, chain_id: w.chainId, idempotency_key: w.group.idempotencyKey, stage: w.group.stage, retries: w.group.receipts.length - 1, message };
  }
}
