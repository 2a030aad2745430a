// Maps a signed receipt to its `receipts` row.
import type { UnsignedReceipt } from "../receipt/types.ts";
import type { ReceiptRow } from "./schema.ts";

export function rowOf(receipt: UnsignedReceipt, receiptJson: string, receiptHash: string): ReceiptRow {
  const s = receipt.credentialSubject;
  return {
    id: receipt.id,
    chain_id: s.chain.chain_id,
    sequence: s.chain.sequence,
    action_type: s.action.type,
    tool_name: s.action.tool_name ?? "",
    risk_level: s.action.risk_level,
    status: s.outcome.status,
    timestamp: receipt.issuanceDate,
    issuer_id: receipt.issuer.id,
    principal_id: s.principal.id,
    receipt_json: receiptJson,
    receipt_hash: receiptHash,
    previous_receipt_hash: s.chain.previous_receipt_hash,
  };
}
