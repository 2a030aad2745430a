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
  return o as unknown as DaemonStatusFile;
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
