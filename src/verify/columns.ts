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
    action?: { type?: unknown; tool_name?: unknown; risk_level?: unknown; idempotency_key?: unknown; emitter_metadata?: { drop_count?: unknown } };
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

/** The columns compared, in table order (all but receipt_json, which is what they are compared with). */
const COMPARED = [
  "id", "chain_id", "sequence", "action_type", "tool_name", "risk_level", "status", "timestamp", "issuer_id",
  "principal_id", "receipt_hash", "previous_receipt_hash",
] as const satisfies ReadonlyArray<keyof StoredRow>;

type Compared = (typeof COMPARED)[number];

/** What each column must hold: exactly the mapping of store/row.ts (an absent optional field has its column default). */
function signedColumns(receipt: ReceiptFields, hash: string): Record<Compared, unknown> {
  const s = receipt.credentialSubject;
  return {
    id: receipt.id,
    chain_id: s?.chain?.chain_id,
    sequence: s?.chain?.sequence,
    action_type: s?.action?.type,
    tool_name: s?.action?.tool_name ?? "",
    risk_level: s?.action?.risk_level,
    status: s?.outcome?.status,
    timestamp: receipt.issuanceDate,
    issuer_id: receipt.issuer?.id,
    principal_id: s?.principal?.id ?? null,
    receipt_hash: hash,
    previous_receipt_hash: s?.chain?.previous_receipt_hash,
  };
}

/**
 * The columns of `row` that differ from what `receipt` (its parsed
 * receipt_json) and `hash` (its computed receipt hash) say; null when all agree.
 * Runs for every row: allocates nothing more unless a column differs.
 */
export function columnMismatch(row: StoredRow, receipt: ReceiptFields, hash: string): ColumnMismatch | null {
  const signed = signedColumns(receipt, hash);
  // A receipt that cannot be canonicalized has no hash to compare with.
  const differs = (c: Compared) => row[c] !== signed[c] && !(c === "receipt_hash" && hash === "");
  if (!COMPARED.some(differs)) return null;
  const columns = COMPARED.filter(differs);
  const parts = columns.map((c) => `${c} is ${show(row[c])}, signed ${show(signed[c])}`);
  return {
    columns,
    detail: `the row's index ${columns.length === 1 ? "column differs" : "columns differ"} from its signed receipt: ${parts.join("; ")}`,
  };
}
