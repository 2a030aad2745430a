// Tables of the transparency log, beside `receipts` (which stays exactly as
// the reference has it, so its tools still read the database).
//
// tlog_tiles: the Merkle tree as tiles of 16 hashes (src/tlog/tree-hashes.ts);
//   id = level * 2^40 + idx, so the table is a plain rowid b-tree.
// tlog_runs: which receipts are which leaves: leaves first_leaf.. hold the
//   rows first_rowid.. (one run while rowids follow each other; commit order).
// tlog_checkpoints: every signed checkpoint note, by tree size.
// tlog_cosignatures: witnesses' cosignature lines on a checkpoint.
export const TLOG_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS tlog_tiles (
  id INTEGER PRIMARY KEY,
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hashes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tlog_runs (
  first_leaf INTEGER PRIMARY KEY,
  first_rowid INTEGER NOT NULL,
  count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_tlog_runs_rowid ON tlog_runs(first_rowid);
CREATE TABLE IF NOT EXISTS tlog_checkpoints (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tlog_cosignatures (
  size INTEGER NOT NULL,
  key_name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  signature_line TEXT NOT NULL,
  anchor TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (size, key_name, key_id)
);
`;

export const TILE_ID_LEVEL_FACTOR = 2 ** 40;

export function tileId(level: number, index: number): number {
  return level * TILE_ID_LEVEL_FACTOR + index;
}
