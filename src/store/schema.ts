// The `receipts` table exactly as PROTOCOL §8 gives it, so the reference
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
