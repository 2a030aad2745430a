// One stored receipt as the readers see it: the row's index columns for
// selecting and sorting, and the stored JSON, which is the only authority
// (docs/protocol.md §8.3) and is what the readers print.

/** The columns every reader query selects, in this order. */
export const RECORD_COLUMNS = "rowid AS rowid, id, chain_id, sequence, action_type, tool_name, risk_level, status, timestamp, receipt_json";

/** A row as SQLite returns it: columns are not typed strictly, so a tampered row may hold anything. */
export interface RecordRow {
  rowid: number;
  id: unknown;
  chain_id: unknown;
  sequence: unknown;
  action_type: unknown;
  tool_name: unknown;
  risk_level: unknown;
  status: unknown;
  timestamp: unknown;
  receipt_json: unknown;
}

export interface StoredReceipt {
  /** SQLite's rowid: commit order, across chains. */
  rowid: number;
  id: string;
  chainId: string;
  sequence: number;
  actionType: string;
  toolName: string;
  riskLevel: string;
  status: string;
  /** issuanceDate as stored (UTC, RFC 3339). */
  timestamp: string;
  /** The stored receipt text, unchanged. */
  json: string;
}

const text = (v: unknown): string => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));

export function toStoredReceipt(row: RecordRow): StoredReceipt {
  return {
    rowid: row.rowid,
    id: text(row.id),
    chainId: text(row.chain_id),
    sequence: typeof row.sequence === "number" ? row.sequence : Number(row.sequence),
    actionType: text(row.action_type),
    toolName: text(row.tool_name),
    riskLevel: text(row.risk_level),
    status: text(row.status),
    timestamp: text(row.timestamp),
    json: text(row.receipt_json),
  };
}

/** What the table output shows beyond the columns: members of the signed receipt that have no column. */
export interface ReceiptDetails {
  sessionId?: string;
  exePath?: string;
}

interface ReceiptShape {
  issuer?: { session_id?: unknown };
  credentialSubject?: { action?: { peer_credential?: { exe_path?: unknown } } };
}

export function detailsOf(json: string): ReceiptDetails {
  let r: ReceiptShape;
  try {
    r = JSON.parse(json) as ReceiptShape;
  } catch {
    return {};
  }
  if (typeof r !== "object" || r === null) return {};
  const details: ReceiptDetails = {};
  if (typeof r.issuer?.session_id === "string") details.sessionId = r.issuer.session_id;
  const exe = r.credentialSubject?.action?.peer_credential?.exe_path;
  if (typeof exe === "string") details.exePath = exe;
  return details;
}
