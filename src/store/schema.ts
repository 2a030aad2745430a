// The `receipts` table exactly as docs/protocol.md §8 gives it, so the reference
// implementation's tools can read this database.

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS receipts (
  id TEXT PRIMARY KEY,
  chain_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  action_type TEXT NOT NULL,
  tool_name TEXT NOT NULL DEFAULT '',
  risk_level TEXT NOT NULL,
  status TEXT NOT NULL,
  timestamp TEXT NOT NULL,
  issuer_id TEXT NOT NULL,
  principal_id TEXT,
  receipt_json TEXT NOT NULL,
  receipt_hash TEXT NOT NULL,
  previous_receipt_hash TEXT,
  created_at TEXT DEFAULT CURRENT_TIMESTAMP,
  UNIQUE (chain_id, sequence)
);
CREATE INDEX IF NOT EXISTS idx_receipts_action_type ON receipts(action_type);
CREATE INDEX IF NOT EXISTS idx_receipts_risk_level ON receipts(risk_level);
CREATE INDEX IF NOT EXISTS idx_receipts_timestamp ON receipts(timestamp);
`;

/**
 * Receipt members the readers filter on that have no column of their own.
 * Queries must use exactly these texts for SQLite to use the indexes below.
 * json_valid first: a tampered row that is not JSON must not make an insert,
 * an UPDATE or the migration fail (json_extract would raise an error).
 */
const member = (path: string) => `(CASE WHEN json_valid(receipt_json) THEN json_extract(receipt_json, '${path}') END)`;
export const SESSION_EXPR = member("$.issuer.session_id");
export const PEER_UID_EXPR = member("$.credentialSubject.action.peer_credential.uid");
export const PEER_EXE_EXPR = member("$.credentialSubject.action.peer_credential.exe_path");

/**
 * The migration for the readers (list, tail, export, status): indexes only,
 * so the table keeps the reference's shape and its tools still read it.
 * Idempotent; the daemon runs it at every start, after SCHEMA_SQL.
 */
export const READER_INDEXES = {
  idx_receipts_tool_name: "tool_name",
  idx_receipts_status: "status",
  idx_receipts_session: SESSION_EXPR,
  idx_receipts_peer_uid: PEER_UID_EXPR,
  idx_receipts_peer_exe: PEER_EXE_EXPR,
} as const;
export type ReaderIndex = keyof typeof READER_INDEXES;

export const READER_INDEXES_SQL = Object.entries(READER_INDEXES)
  .map(([name, expr]) => `CREATE INDEX IF NOT EXISTS ${name} ON receipts(${expr});`)
  .join("\n");

/** One row of `receipts`. */
export type ReceiptRow = {
  id: string;
  chain_id: string;
  sequence: number;
  action_type: string;
  tool_name: string;
  risk_level: string;
  status: string;
  timestamp: string;
  issuer_id: string;
  principal_id: string | null;
  receipt_json: string;
  receipt_hash: string;
  previous_receipt_hash: string | null;
};

export interface ChainTail {
  chainId: string;
  sequence: number;
  hash: string;
  receiptId: string;
  terminal: boolean;
}

export interface ChainSummary {
  chainId: string;
  count: number;
  firstSequence: number;
  lastSequence: number;
}

/**
 * A stored row as read back, for checking: SQLite does not enforce column
 * types, so a tampered row may hold anything in any column.
 */
export type StoredRow = { [K in keyof ReceiptRow]: unknown };

/** Every column of ReceiptRow, in table order. */
export const ROW_COLUMNS = [
  "id", "chain_id", "sequence", "action_type", "tool_name", "risk_level", "status", "timestamp", "issuer_id",
  "principal_id", "receipt_json", "receipt_hash", "previous_receipt_hash",
] as const satisfies ReadonlyArray<keyof ReceiptRow>;
