// The in-order rules of PROTOCOL §7 for one chain: status shape, signature
// (already checked by a worker), hash link, sequence, chain id, terminal.
import type { CheckedReceipt, ReceiptProblem } from "./check-receipt.ts";

export type BreakReason =
  | ReceiptProblem
  | "invalid_chain_status"
  | "broken_hash_link"
  | "sequence_gap"
  | "chain_id_mismatch"
  | "receipt_after_terminal";

export const REASON_TEXT: Record<BreakReason, string> = {
  malformed_receipt: "malformed receipt",
  malformed_proof: "malformed proof",
  bad_signature: "bad signature",
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
  /** Every rule this receipt fails, in PROTOCOL §7 order; `reason` is the first. */
  reasons: BreakReason[];
  detail: string;
}

export type ChainStatusVerdict = "complete" | "interrupted" | "unknown";

/** Folds receipts of one chain, in order, into a verdict. */
export class ChainRules {
  private index = 0;
  private prev: CheckedReceipt | null = null;
  private firstChainId: unknown;
  private terminalSeen = false;
  private endStatus: ChainStatusVerdict = "unknown";
  broken: ChainBreak | null = null;

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
    const found: Array<[BreakReason, string]> = [];
    if (r.problem === "malformed_receipt") found.push([r.problem, r.detail ?? ""]);
    const statusOk = r.status === undefined ? r.terminal === undefined || r.terminal === true
      : r.terminal === true && (r.status === "complete" || r.status === "interrupted");
    if (!statusOk) found.push(["invalid_chain_status", `chain.status ${JSON.stringify(r.status)} with terminal ${JSON.stringify(r.terminal)}`]);
    if (r.problem === "malformed_proof" || r.problem === "bad_signature") found.push([r.problem, r.detail ?? ""]);
    if (i === 0) {
      if (r.previousHash !== null) found.push(["broken_hash_link", "the first receipt must have previous_receipt_hash null"]);
      if (!isSequence(r.sequence)) found.push(["sequence_gap", `the first sequence is ${JSON.stringify(r.sequence)}, not an integer >= 1`]);
      this.firstChainId = r.chainId;
      if (typeof r.chainId !== "string") found.push(["chain_id_mismatch", "chain.chain_id is missing"]);
    } else {
      const prev = this.prev!;
      if (r.previousHash !== prev.hash) found.push(["broken_hash_link", `previous_receipt_hash ${String(r.previousHash)} != hash of receipt ${i - 1} ${prev.hash}`]);
      if (!isSequence(r.sequence) || r.sequence !== (prev.sequence as number) + 1) {
        found.push(["sequence_gap", `sequence ${JSON.stringify(r.sequence)} follows ${JSON.stringify(prev.sequence)}`]);
      }
      if (r.chainId !== this.firstChainId) found.push(["chain_id_mismatch", `chain_id ${JSON.stringify(r.chainId)} != ${JSON.stringify(this.firstChainId)}`]);
      if (this.terminalSeen) found.push(["receipt_after_terminal", `receipt ${i} follows the terminal receipt ${i - 1}`]);
    }
    if (found.length > 0) {
      this.broken = {
        index: i,
        sequence: typeof r.sequence === "number" ? r.sequence : null,
        receiptId: r.id,
        reason: found[0]![0],
        reasons: found.map(([reason]) => reason),
        detail: found[0]![1],
      };
      return false;
    }
    this.prev = r;
    this.terminalSeen = r.terminal === true;
    this.endStatus = r.terminal === true ? ((r.status as ChainStatusVerdict | undefined) ?? "complete") : "unknown";
    return true;
  }
}

function isSequence(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 1;
}
