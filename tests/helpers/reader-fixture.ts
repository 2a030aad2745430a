// A database written by the compiled daemon, for the reader commands' tests:
// events from two sender executables (node and bun) over two daemon runs, so
// it holds a terminated root chain, a sub-agent chain, a continuation chain
// an events_dropped receipt, failures, pending calls, and a known
// instant between two batches for the time filters.
import { afterAll, beforeAll } from "bun:test";
import { Database } from "bun:sqlite";
import { rmSync } from "node:fs";
import { killSenders, realExe, runSender, sendAndConfirm, validFrame, type Json } from "../daemon/support.ts";
import { startDaemon, type DaemonHandle } from "./daemon.ts";
import { tempDir } from "./fixtures.ts";
import { removeTempDirs } from "./verify-run.ts";

export const CHAIN = "rd";

export interface ReaderFixture {
  dir: string;
  db: string;
  publicKey: string;
  socket: string;
  /** An instant after the first daemon run's receipts and before the second's. */
  between: string;
  exes: { node: string; bun: string };
  /** The daemon of the second run, still running. */
  daemon: DaemonHandle;
}

export interface StoredRow {
  rowid: number;
  id: string;
  chainId: string;
  sequence: number;
  json: string;
  receipt: {
    issuer: { session_id?: string };
    issuanceDate: string;
    credentialSubject: {
      action: { type: string; tool_name: string; risk_level: string; peer_credential?: { uid: number; exe_path?: string } };
      outcome: { status: string };
      chain: { chain_id: string; sequence: number; terminal?: boolean };
    };
  };
}

const f = (session: string, i: number, extra: Record<string, Json>) => validFrame(session, i, extra);

/** Starts the daemon twice on one database and sends the fixture's events; the second daemon is left running. */
export async function makeReaderFixture(): Promise<ReaderFixture> {
  const dir = tempDir("ar-readers-");
  const args = ["--chain-id", CHAIN];
  const first = await startDaemon({ dir, args });
  await runSender("node", first.socket, sendAndConfirm([
    f("sA", 1, { tool: { name: "read_file" } }),
    f("sA", 2, { tool: { name: "Bash" } }),
    f("sA", 3, { tool: { name: "Bash" }, decision: "denied" }),
    f("sA", 4, { tool: { name: "mcp__github__create_issue" } }),
    f("sA", 5, { tool: { name: "read_file" }, action_type: "filesystem.file.read" }),
    f("sA", 6, { tool: { name: "read_file" }, drop_count: 3 }),
  ]));
  await runSender("bun", first.socket, sendAndConfirm([
    f("sB", 1, { channel: "claude-code", tool: { name: "Write" } }),
    f("sB", 2, { channel: "claude-code", tool: { name: "Bash" }, decision: "pending" }),
    f("sB", 3, { channel: "claude-code", tool: { name: "Read" }, agent_id: "helper" }),
    f("sB", 4, { channel: "claude-code", tool: { name: "Grep" }, agent_id: "helper" }),
  ]));
  if ((await first.stop()) !== 0) throw new Error(`first daemon did not stop cleanly:\n${first.stderr()}`);
  await Bun.sleep(1100);
  const between = new Date().toISOString();
  await Bun.sleep(50);
  const daemon = await startDaemon({ dir, args });
  await runSender("node", daemon.socket, sendAndConfirm([
    f("sC", 1, { channel: "mcp", tool: { name: "query", server: "db" }, output: { isError: true } }),
    f("sC", 2, { channel: "mcp", tool: { name: "query", server: "db" } }),
    f("sC", 3, { channel: "sdk", tool: { name: "mcp__github__list_prs" } }),
  ]));
  return { dir, db: daemon.db, publicKey: daemon.publicKey, socket: daemon.socket, between, exes: { node: realExe("node"), bun: realExe("bun") }, daemon };
}

/** Every stored receipt in commit order, read with a plain read-only connection (the files exist: the daemon runs). */
export function storedRows(db: string): StoredRow[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn
      .query<{ rowid: number; id: string; chain_id: string; sequence: number; receipt_json: string }, []>(
        "SELECT rowid AS rowid, id, chain_id, sequence, receipt_json FROM receipts ORDER BY rowid",
      )
      .all()
      .map((r) => ({ rowid: r.rowid, id: r.id, chainId: r.chain_id, sequence: r.sequence, json: r.receipt_json, receipt: JSON.parse(r.receipt_json) as StoredRow["receipt"] }));
  } finally {
    conn.close();
  }
}

/** One fixture for a whole test file: made before its tests, removed (daemon stopped) after them. */
export function useReaderFixture(ready: (fx: ReaderFixture) => void): void {
  let fx: ReaderFixture | undefined;
  beforeAll(async () => {
    fx = await makeReaderFixture();
    ready(fx);
  }, 60_000);
  afterAll(async () => {
    killSenders();
    await fx?.daemon.stop();
    if (fx) rmSync(fx.dir, { recursive: true, force: true });
    removeTempDirs();
  });
}
