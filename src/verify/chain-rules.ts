// The in-order rules of docs/protocol.md §7 for one chain: status shape, signature
// (already checked by a worker), index columns of a stored row, hash link,
// sequence, chain id, terminal.
import type { CheckedReceipt, ReceiptProblem } from "./check-receipt.ts";

export type BreakReason =
  | ReceiptProblem
  | "column_mismatch"
  | "invalid_chain_status"
  | "broken_hash_link"
  | "sequence_gap"
  | "chain_id_mismatch"
  | "receipt_after_terminal";

export const REASON_TEXT: Record<BreakReason, string> = {
  malformed_receipt: "malformed receipt",
  malformed_proof: "malformed proof",
  bad_signature: "bad signature",
  column_mismatch: "index column differs from the signed receipt",
  invalid_chain_status: "invalid chain status",
  broken_hash_link: "broken hash link",
  sequence_gap: "sequence gap",
  chain_id_mismatch: "chain id mismatch",
  receipt_after_terminal: "receipt after terminal",
};

export interface ChainBreak {
  index: number;
  sequence: number | null;
  receiptId: string;
  reason: BreakReason;
  /** Every rule this receipt fails, in docs/protocol.md §7 order; `reason` is the first. */
  reasons: BreakReason[];
  detail: string;
  /** With column_mismatch: the stored row's columns that differ from its signed receipt. */
  columns?: string[];
}

export type ChainStatusVerdict = "complete" | "interrupted" | "unknown";

export type Violation = [BreakReason, string];

/**
 * The rules of docs/protocol.md §7 for receipt `r` at chain index `i`, in §7 order.
 * `prev` is receipt i-1 (null exactly when i is 0); `firstChainId` the chain
 * id every receipt must carry.
 */
export function violations(r: CheckedReceipt, i: number, prev: CheckedReceipt | null, firstChainId: unknown): Violation[] {
  const found: Violation[] = [];
  if (r.problem === "malformed_receipt") found.push([r.problem, r.detail ?? ""]);
  const statusOk = r.status === undefined ? r.terminal === undefined || r.terminal === true
    : r.terminal === true && (r.status === "complete" || r.status === "interrupted");
  if (!statusOk) found.push(["invalid_chain_status", `chain.status ${JSON.stringify(r.status)} with terminal ${JSON.stringify(r.terminal)}`]);
  if (r.problem === "malformed_proof" || r.problem === "bad_signature") found.push([r.problem, r.detail ?? ""]);
  // Before the links: an edited column says what the row is, not how it relates to its neighbours.
  if (r.columns !== undefined) found.push(["column_mismatch", r.columns.detail]);
  if (prev === null) {
    if (r.previousHash !== null) found.push(["broken_hash_link", "the first receipt must have previous_receipt_hash null"]);
    if (!isSequence(r.sequence)) found.push(["sequence_gap", `the first sequence is ${JSON.stringify(r.sequence)}, not an integer >= 1`]);
    if (typeof r.chainId !== "string") found.push(["chain_id_mismatch", "chain.chain_id is missing"]);
    return found;
  }
  if (r.previousHash !== prev.hash) found.push(["broken_hash_link", `previous_receipt_hash ${String(r.previousHash)} != hash of receipt ${i - 1} ${prev.hash}`]);
  if (!isSequence(r.sequence) || r.sequence !== (prev.sequence as number) + 1) {
    found.push(["sequence_gap", `sequence ${JSON.stringify(r.sequence)} follows ${JSON.stringify(prev.sequence)}`]);
  }
  if (r.chainId !== firstChainId) found.push(["chain_id_mismatch", `chain_id ${JSON.stringify(r.chainId)} != ${JSON.stringify(firstChainId)}`]);
  if (prev.terminal === true) found.push(["receipt_after_terminal", `receipt ${i} follows the terminal receipt ${i - 1}`]);
  return found;
}

export function toBreak(found: Violation[], i: number, r: CheckedReceipt): ChainBreak {
  const b: ChainBreak = {
    index: i,
    sequence: typeof r.sequence === "number" ? r.sequence : null,
    receiptId: r.id,
    reason: found[0]![0],
    reasons: found.map(([reason]) => reason),
    detail: found[0]![1],
  };
  if (r.columns !== undefined) b.columns = r.columns.columns;
  return b;
}

/**
 * A run of consecutive receipts already checked against each other (by a
 * worker): only its head still needs linking to what came before.
 */
export interface Segment {
  count: number;
  head: CheckedReceipt;
  tail: CheckedReceipt;
  /** The first break inside the segment (never at its head), with its chain index. */
  break?: ChainBreak;
}

/** Checks `receipts` (chain indexes base, base+1, ...) against each other; the head is left to the caller. */
export function checkSegment(receipts: CheckedReceipt[], base: number): Segment {
  const head = receipts[0]!;
  for (let j = 1; j < receipts.length; j++) {
    const found = violations(receipts[j]!, base + j, receipts[j - 1]!, head.chainId);
    if (found.length > 0) return { count: receipts.length, head, tail: receipts[j - 1]!, break: toBreak(found, base + j, receipts[j]!) };
  }
  return { count: receipts.length, head, tail: receipts[receipts.length - 1]! };
}

/** Folds receipts (or worker-checked segments) of one chain, in order, into a verdict. */
export class ChainRules {
  private index = 0;
  private prev: CheckedReceipt | null = null;
  private firstChainId: unknown;
  private endStatus: ChainStatusVerdict = "unknown";
  broken: ChainBreak | null = null;
  /** Set when a `partial` chain starts after sequence 1: that sequence (its first link points outside the input). */
  unanchoredFrom: number | undefined;

  /**
   * `partial`: the receipts may be a part of a chain (an export of a time
   * window) that starts after sequence 1. Its first receipt's link then points
   * at a receipt that is not there: it is reported, not counted as a break.
   */
  constructor(private readonly partial = false) {}

  get count(): number {
    return this.index;
  }

  get status(): ChainStatusVerdict {
    return this.endStatus;
  }

  /** Applies the rules to the next receipt; returns false once the chain is broken. */
  accept(r: CheckedReceipt): boolean {
    if (this.broken !== null) return false;
    const i = this.index++;
    if (i === 0) this.firstChainId = r.chainId;
    let found = violations(r, i, this.prev, this.firstChainId);
    if (i === 0 && this.partial && isSequence(r.sequence) && r.sequence > 1 && typeof r.previousHash === "string") {
      found = found.filter(([reason]) => reason !== "broken_hash_link");
      this.unanchoredFrom = r.sequence;
    }
    if (found.length > 0) {
      this.broken = toBreak(found, i, r);
      return false;
    }
    this.advance(r);
    return true;
  }

  /** Links a segment's head to the chain so far, then takes the segment's own verdict. */
  acceptSegment(segment: Segment): boolean {
    if (!this.accept(segment.head)) return false;
    if (segment.break !== undefined) {
      this.index = segment.break.index + 1;
      this.broken = segment.break;
      return false;
    }
    this.index += segment.count - 1;
    this.advance(segment.tail);
    return true;
  }

  private advance(r: CheckedReceipt): void {
    this.prev = r;
    this.endStatus = r.terminal === true ? ((r.status as ChainStatusVerdict | undefined) ?? "complete") : "unknown";
  }
}

function isSequence(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 1;
}
