// `agent-receipts status`: gathers one screen about the daemon and the record,
// like `systemctl status`. Read-only everywhere: a status file, a connection
// without a frame, the database opened read-only.
import { statSync } from "node:fs";
import { loadPublicKey } from "../keys/key-files.ts";
import { ReadOnlyDatabase } from "../store/open-readonly.ts";
import { discover, leftover, liveStatus, type Discovery } from "./discover.ts";
import { explainConnection, type Explained } from "./explain.ts";
import { probeConnect, type ConnectOutcome } from "./probe.ts";
import { summarizeRecord } from "./record.ts";
import type { DaemonStatusFile, StatusFileAnchor } from "./status-file.ts";
import { summarizeTlog, type TlogSummary, type WitnessCosigned } from "./tlog-summary.ts";
import { encodeBase64 } from "../tlog/note.ts";
import { candidateSockets, readerPaths, readReaderConfig, shellSocket, type ReaderFlags, type Sourced } from "./targets.ts";
import { UserFacingError } from "../errors.ts";

/** The `--json` shape: a stable interface (README), snake_case, fields only added. */
export interface StatusJson {
  running: boolean;
  reachable: boolean;
  daemon: {
    pid: number;
    version: string;
    started_at: string;
    /** When the daemon last rewrote its status file (every 10 s while it runs). */
    updated_at: string;
    socket: string;
    db: string;
    chain_id: string;
    fingerprint: string;
    config: string | null;
    status_file: string;
  } | null;
  /** Why the daemon is reported as it is, when there is more to say (no status file, a left-over one). */
  daemon_note: string | null;
  connection: { socket: string; socket_from: string; outcome: ConnectOutcome; ok: boolean; message: string; fix: string | null };
  database: { path: string; path_from: string; size_bytes: number | null; readable: boolean; error: string | null };
  chain_head: { chain_id: string; sequence: number; timestamp: string; age_seconds: number } | null;
  receipts: { total: number; last_hour: number } | null;
  events_dropped: { receipts: number; events: number } | null;
  key: { public_key: string; public_key_from: string; fingerprint: string | null; error: string | null; daemon_fingerprint: string | null };
  /** Null when the database has no transparency log (or cannot be read). */
  transparency_log: TransparencyLogJson | null;
}

export interface TransparencyLogJson {
  /** The newest checkpoint's origin, else the running daemon's; null when neither is known. */
  origin: string | null;
  /** Receipts in the Merkle tree. */
  tree_size: number;
  /** Receipts not in the tree (written while the log was off; the daemon adds them at its next start). */
  not_in_tree: number;
  checkpoint: { size: number; root: string; created_at: string; age_seconds: number } | null;
  /** Receipts no checkpoint covers yet, and the date of the oldest of them. */
  not_in_checkpoint: number;
  oldest_not_in_checkpoint: string | null;
  /** Per witness key: its newest cosigned size and how many cosignatures are stored. */
  cosignatures: WitnessCosigned[];
  /** Whether the running daemon keeps the log (its status file); null when no running daemon says. */
  daemon_enabled: boolean | null;
  /** The running daemon's anchors and their state; null when no running daemon says. */
  anchors: StatusFileAnchor[] | null;
}

export function transparencyLogJson(t: TlogSummary, daemon: DaemonStatusFile | null, now: Date): TransparencyLogJson {
  const live = daemon?.log;
  const c = t.checkpoint;
  return {
    origin: t.origin ?? live?.origin ?? null,
    tree_size: t.treeSize,
    not_in_tree: t.unlogged,
    checkpoint: c === null ? null : {
      size: c.size, root: encodeBase64(c.root), created_at: c.createdAt, age_seconds: Math.round((now.getTime() - Date.parse(c.createdAt)) / 1000),
    },
    not_in_checkpoint: t.uncovered,
    oldest_not_in_checkpoint: t.oldestUncoveredAt,
    cosignatures: t.witnesses,
    daemon_enabled: live === undefined ? null : live !== null,
    anchors: live == null ? null : live.anchors,
  };
}

function filesSize(db: string): number | null {
  let total = 0;
  try {
    total = statSync(db).size;
  } catch {
    return null;
  }
  for (const extra of [`${db}-wal`]) {
    try {
      total += statSync(extra).size;
    } catch {
      // no WAL: a cleanly stopped daemon folded it into the database
    }
  }
  return total;
}

/** An explicitly named file that cannot be used is a usage error (exit 2); an implicit one is reported in the screen. */
function checkExplicit(source: Sourced, error: string | null): void {
  if (error !== null && source.explicit) throw new UserFacingError(error);
}

function daemonNote(d: Discovery): string | null {
  const sighting = d.daemon;
  if (sighting === null) {
    const notes = d.looked.map(leftover).filter((n): n is string => n !== null);
    return notes[0] ?? null;
  }
  if (sighting.file.kind === "absent") return `a daemon listens on ${sighting.socket} but has no status file (an older version, or it could not write ${sighting.file.path})`;
  if (sighting.file.kind === "unreadable") return `this user may not read the daemon's status file ${sighting.file.path} (${sighting.file.code}): it is readable by the socket's group`;
  if (sighting.file.kind === "invalid") return `the daemon's status file ${sighting.file.path} is not valid: ${sighting.file.message}`;
  if (sighting.alive === false) return `the status file ${sighting.file.path} names pid ${sighting.file.status.pid}, which is gone, yet a socket listens at ${sighting.socket}`;
  return null;
}

export async function gatherStatus(flags: ReaderFlags, now = new Date()): Promise<StatusJson> {
  const config = readReaderConfig(flags.config);
  const shell = shellSocket(flags.socket);
  const found = discover(shell.path, candidateSockets(shell.path, config));
  const daemonStatus = found.daemon === null ? null : liveStatus(found.daemon);
  const paths = readerPaths(flags, config, daemonStatus);
  const probe = await probeConnect(shell.path);
  const explained: Explained = explainConnection(shell, probe, found.daemon);

  let database: StatusJson["database"] = { path: paths.db.path, path_from: paths.db.from, size_bytes: filesSize(paths.db.path), readable: false, error: null };
  let record: ReturnType<typeof summarizeRecord> | null = null;
  let tlog: TlogSummary | null = null;
  try {
    const reader = new ReadOnlyDatabase(paths.db.path);
    try {
      record = summarizeRecord(reader.db, now);
      database = { ...database, readable: true };
      try {
        tlog = summarizeTlog(reader.db);
      } catch {
        // Damaged log tables: doctor and verify say what is wrong; the rest of the screen stands.
      }
    } finally {
      reader.close();
    }
  } catch (err) {
    database = { ...database, error: err instanceof Error ? err.message : String(err) };
  }
  checkExplicit(paths.db, database.error);

  let key: StatusJson["key"] = {
    public_key: paths.publicKey.path, public_key_from: paths.publicKey.from, fingerprint: null, error: null, daemon_fingerprint: daemonStatus?.fingerprint ?? null,
  };
  try {
    key = { ...key, fingerprint: loadPublicKey(paths.publicKey.path).fingerprint };
  } catch (err) {
    key = { ...key, error: (err as Error).message };
  }
  checkExplicit(paths.publicKey, key.error);

  const running = found.daemon !== null;
  return {
    running,
    reachable: running && probe.outcome === "accepted",
    daemon: daemonStatus === null ? null : {
      pid: daemonStatus.pid, version: daemonStatus.version, started_at: daemonStatus.started_at, updated_at: daemonStatus.updated_at,
      socket: daemonStatus.socket, db: daemonStatus.db, chain_id: daemonStatus.chain_id, fingerprint: daemonStatus.fingerprint,
      config: daemonStatus.config, status_file: found.daemon!.file.path,
    },
    daemon_note: daemonNote(found),
    connection: { socket: shell.path, socket_from: shell.from, outcome: probe.outcome, ok: explained.ok, message: explained.problem, fix: explained.fix },
    database,
    chain_head: record?.head == null ? null : {
      // Negative when the receipt is dated after this machine's clock.
      ...record.head, age_seconds: Math.round((now.getTime() - Date.parse(record.head.timestamp)) / 1000),
    },
    receipts: record === null ? null : { total: record.total, last_hour: record.lastHour },
    events_dropped: record === null ? null : record.dropped,
    key,
    transparency_log: tlog === null ? null : transparencyLogJson(tlog, daemonStatus, now),
  };
}
