// The index columns of a stored row must say what its signed receipt says:
// readers filter on them (chain, risk, tool, time) without parsing the JSON,
// so a column edited by hand would feed them false data that the signature
// does not cover.
import type { StoredRow } from "../store/schema.ts";

/** A parsed receipt as far as verification reads it, every field unchecked. */
export interface ReceiptFields {
  id?: unknown;
  issuanceDate?: unknown;
  issuer?: { id?: unknown };
  credentialSubject?: {
    principal?: { id?: unknown };
    action?: { type?: unknown; tool_name?: unknown; risk_level?: unknown; idempotency_key?: unknown };
    outcome?: { status?: unknown };
    chain?: { chain_id?: unknown; sequence?: unknown; previous_receipt_hash?: unknown; terminal?: unknown; status?: unknown };
  };
  proof?: unknown;
}

export interface ColumnMismatch {
  /** The columns that differ, in table order. */
  columns: string[];
  detail: string;
}

const SHOWN_CHARS = 80;

function show(value: unknown): string {
  const text = value === undefined ? "(absent)" : JSON.stringify(value) ?? String(value);
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
}

/**
 * The columns of `row` that differ from what `receipt` (its parsed
 * receipt_json) and `hash` (its computed receipt hash) say; null when all agree.
 */
export function columnMismatch(row: StoredRow, receipt: ReceiptFields, hash: string): ColumnMismatch | null {
  const s = receipt.credentialSubject;
  // Exactly the mapping of store/row.ts; an optional field absent from the receipt has its column default.
  const expected: Array<[keyof StoredRow, unknown]> = [
    ["id", receipt.id],
    ["chain_id", s?.chain?.chain_id],
    ["sequence", s?.chain?.sequence],
    ["action_type", s?.action?.type],
    ["tool_name", s?.action?.tool_name ?? ""],
    ["risk_level", s?.action?.risk_level],
    ["status", s?.outcome?.status],
    ["timestamp", receipt.issuanceDate],
    ["issuer_id", receipt.issuer?.id],
    ["principal_id", s?.principal?.id ?? null],
    // A receipt that cannot be canonicalized has no hash to compare with.
    ...(hash === "" ? [] : [["receipt_hash", hash] as [keyof StoredRow, unknown]]),
    ["previous_receipt_hash", s?.chain?.previous_receipt_hash],
  ];
  const differ = expected.filter(([column, value]) => row[column] !== value);
  if (differ.length === 0) return null;
  const parts = differ.map(([column, value]) => `${column} is ${show(row[column])}, signed ${show(value)}`);
  return {
    columns: differ.map(([column]) => column),
    detail: `the row's index ${differ.length === 1 ? "column differs" : "columns differ"} from its signed receipt: ${parts.join("; ")}`,
  };
}
