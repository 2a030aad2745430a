// A private world for tests of the CLI's default paths: its own HOME,
// XDG_RUNTIME_DIR and XDG_DATA_HOME, so that a daemon and the CLI started with
// `env` resolve the same socket, status file, database and keys without
// flags, and nothing touches the real user's.
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./fixtures.ts";

export interface PrivateWorld {
  dir: string;
  env: Record<string, string>;
  socket: string;
  statusFile: string;
  /** <data dir>/agent-receipts */
  data: string;
  db: string;
  key: string;
  publicKey: string;
}

/** Made under a fresh temp directory named `prefix...`; the caller removes `dir`. */
export function privateWorld(prefix: string): PrivateWorld {
  const dir = tempDir(prefix);
  // Other users (the tests' own OS users) must reach the socket and files.
  chmodSync(dir, 0o755);
  const xdg = join(dir, "xdg");
  mkdirSync(xdg, { mode: 0o755 });
  chmodSync(xdg, 0o755);
  const data = join(dir, "data", "agent-receipts");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(dir, "home"), XDG_RUNTIME_DIR: xdg, XDG_DATA_HOME: join(dir, "data") };
  const socketDir = join(xdg, "agentreceipts");
  return {
    dir, env, socket: join(socketDir, "events.sock"), statusFile: join(socketDir, "events.status.json"), data,
    db: join(data, "receipts.db"), key: join(data, "signing.key"), publicKey: join(data, "signing.key.pub"),
  };
}
