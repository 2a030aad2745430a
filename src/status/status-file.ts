// The small status file a running daemon publishes beside its socket, so that
// `status`, `doctor` and `service status` can tell who listens there (and
// where its database and key are) without a connection, and without reading
// a config file the reader may not be allowed to read. The daemon rewrites it
// atomically every HEARTBEAT_MS and removes it at a clean stop.
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export const STATUS_FILE_FORMAT = 1;
/** How often the daemon rewrites `updated_at`: readers judge a stalled daemon and clock skew by it. */
export const HEARTBEAT_MS = 10_000;

/** The file's JSON (snake_case, fields only added). */
export interface DaemonStatusFile {
  format: number;
  pid: number;
  /** The daemon's uid: it and root may always emit. */
  uid: number;
  version: string;
  started_at: string;
  updated_at: string;
  socket: string;
  db: string;
  key: string;
  public_key: string;
  /** The root chain the daemon writes to in this run. */
  chain_id: string;
  fingerprint: string;
  /** The config file the daemon read, if any. */
  config: string | null;
  /** Configured allow-lists, as numeric ids (root and `uid` are allowed besides). */
  allow_uids: number[];
  allow_groups: number[];
  /** The group given the socket, or null for the daemon's own group. */
  socket_group: number | null;
  /**
   * The transparency log as the daemon sees it: null when it is turned off;
   * absent in files of daemons older than this member (readers treat it as unknown).
   */
  log?: StatusFileLog | null;
}

/** One anchor's state in the status file (docs/protocol.md §9.8). */
export interface StatusFileAnchor {
  /** As named in the daemon's log: file:<path>, syslog, syslog:<socket>, witness:<URL>. */
  name: string;
  /** Checkpoints it took since the daemon started. */
  published: number;
  /** Failed attempts since the daemon started. */
  failures: number;
  /** Failed attempts since its last success: 0 when healthy. */
  failed_attempts: number;
  /** The error of the last failed attempt while it is failing, else null. */
  last_error: string | null;
  last_published_size: number | null;
  last_published_at: string | null;
}

export interface StatusFileLog {
  origin: string;
  /** Leaves in the tree: receipts the log covers. */
  tree_size: number;
  /** The newest checkpoint's size and signing time (null before the first one). */
  checkpoint_size: number | null;
  checkpoint_at: string | null;
  /** The daemon's checkpoint_interval, in seconds. */
  checkpoint_interval: number;
  anchors: StatusFileAnchor[];
}

/** `<socket dir>/<socket name without .sock>.status.json`, e.g. /run/agentreceipts/events.status.json. */
export function statusFilePath(socketPath: string): string {
  return join(dirname(socketPath), `${basename(socketPath).replace(/\.sock$/, "")}.status.json`);
}

export type StatusFileRead =
  | { kind: "ok"; path: string; status: DaemonStatusFile }
  | { kind: "absent"; path: string }
  | { kind: "unreadable"; path: string; code: string; message: string }
  | { kind: "invalid"; path: string; message: string };

const STRING_FIELDS = ["version", "started_at", "updated_at", "socket", "db", "key", "public_key", "chain_id", "fingerprint"] as const;
const ID_FIELDS = ["format", "pid", "uid"] as const;

function isId(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function isAnchor(v: unknown): v is StatusFileAnchor {
  if (typeof v !== "object" || v === null) return false;
  const a = v as Record<string, unknown>;
  const sizeOrNull = (x: unknown) => x === null || isId(x);
  const textOrNull = (x: unknown) => x === null || typeof x === "string";
  return typeof a.name === "string" && isId(a.published) && isId(a.failures) && isId(a.failed_attempts)
    && textOrNull(a.last_error) && sizeOrNull(a.last_published_size) && textOrNull(a.last_published_at);
}

function parseLog(v: unknown): StatusFileLog | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const l = v as Record<string, unknown>;
  if (typeof l.origin !== "string" || !isId(l.tree_size)) return null;
  if (l.checkpoint_size !== null && !isId(l.checkpoint_size)) return null;
  if (l.checkpoint_at !== null && typeof l.checkpoint_at !== "string") return null;
  if (typeof l.checkpoint_interval !== "number" || !Number.isFinite(l.checkpoint_interval) || l.checkpoint_interval < 0) return null;
  if (!Array.isArray(l.anchors) || !l.anchors.every(isAnchor)) return null;
  return l as unknown as StatusFileLog;
}

/** The status file's content, or why it is not one. */
export function parseStatusFile(text: string): DaemonStatusFile | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const o = value as Record<string, unknown>;
  for (const k of STRING_FIELDS) if (typeof o[k] !== "string") return `"${k}" is missing or not a string`;
  for (const k of ID_FIELDS) if (!isId(o[k])) return `"${k}" is missing or not a non-negative integer`;
  for (const k of ["allow_uids", "allow_groups"] as const) {
    const list = o[k];
    if (!Array.isArray(list) || !list.every(isId)) return `"${k}" is not a list of ids`;
  }
  if (o.config !== null && typeof o.config !== "string") return `"config" is not a string or null`;
  if (o.socket_group !== null && !isId(o.socket_group)) return `"socket_group" is not an id or null`;
  // Added later: an older daemon has no "log"; one that does not parse is ignored (the file is a hint), not fatal.
  const status = { ...o } as unknown as DaemonStatusFile;
  if (o.log === undefined || (o.log !== null && parseLog(o.log) === null)) delete status.log;
  return status;
}

export function readStatusFile(path: string): StatusFileRead {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT" || e.code === "ENOTDIR") return { kind: "absent", path };
    return { kind: "unreadable", path, code: e.code ?? "EIO", message: e.message };
  }
  const parsed = parseStatusFile(text);
  return typeof parsed === "string" ? { kind: "invalid", path, message: parsed } : { kind: "ok", path, status: parsed };
}
