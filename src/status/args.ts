// The flags `status` and `doctor` share: what to read, resolved as src/status/targets.ts says.
export const readerArgs = {
  db: { type: "string", description: "Database to read (default: $AGENTRECEIPTS_DB, the config's db, the running daemon's, else <data dir>/receipts.db)", valueHint: "PATH" },
  "public-key": { type: "string", description: "Public key (default: $AGENTRECEIPTS_PUBLIC_KEY, the config's, the running daemon's, else <key>.pub)", valueHint: "PATH" },
  config: { type: "string", description: "Config file to take paths from (default: $AGENTRECEIPTS_CONFIG, else <data dir>/daemon.toml when present)", valueHint: "PATH" },
  socket: { type: "string", description: "Socket to check (default: $AGENTRECEIPTS_SOCKET, else the platform default, as emitters resolve it)", valueHint: "PATH" },
  json: { type: "boolean", description: "Print one JSON object" },
} as const;
