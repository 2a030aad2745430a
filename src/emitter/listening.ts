// Why was a connect to the daemon's socket refused? "No daemon" is only one
// answer. Linux refuses a connect with EAGAIN when the listener's queue of
// pending connections is full (a stalled or overloaded daemon), and Bun
// reports that as ECONNREFUSED; a daemon out of file descriptors stops
// listening for a while, and clients then get ECONNREFUSED too. The daemon's
// status file (a live pid) and the kernel's socket table tell these apart.
import { readFileSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { readStatusFile, statusFilePath } from "../status/status-file.ts";

/** __SO_ACCEPTCON: the socket called listen(). */
const ACCEPTING = 0x10000;

function realPathOf(path: string): string {
  try {
    return join(realpathSync(dirname(path)), basename(path));
  } catch {
    return path;
  }
}

/**
 * True when a listening socket is bound to `path`, false when none is,
 * undefined when the kernel's table cannot be read (not Linux). The daemon
 * binds its socket as `<path>~` and then moves it into place (see
 * src/daemon/listener.ts), so the table may show that name.
 */
export function unixSocketListening(path: string): boolean | undefined {
  let table: string;
  try {
    table = readFileSync("/proc/net/unix", "latin1");
  } catch {
    return undefined;
  }
  const wanted = new Set([path, resolve(path), realPathOf(path)].flatMap((p) => [p, `${p}~`]));
  const names = new Set([basename(path), `${basename(path)}~`]);
  // Columns: Num RefCount Protocol Flags Type St Inode Path; the path (which may hold spaces) is the rest of the line.
  for (const line of table.split("\n").slice(1)) {
    const m = /^\S+\s+\S+\s+\S+\s+([0-9A-Fa-f]+)\s+\S+\s+\S+\s+\S+ (.+)$/.exec(line);
    if (m === null || (Number.parseInt(m[1]!, 16) & ACCEPTING) === 0) continue;
    const bound = m[2]!;
    if (!names.has(basename(bound))) continue;
    if (wanted.has(bound) || wanted.has(realPathOf(bound))) return true;
  }
  return false;
}

/** The pid of a running daemon that published a status file for this socket, if any. */
function liveDaemonPid(path: string): number | undefined {
  const read = readStatusFile(statusFilePath(path));
  if (read.kind !== "ok") return undefined;
  try {
    process.kill(read.status.pid, 0);
    return read.status.pid;
  } catch (err) {
    // EPERM: alive, and another user's (a system daemon).
    return (err as NodeJS.ErrnoException).code === "EPERM" ? read.status.pid : undefined;
  }
}

export type RefusalCause =
  | { kind: "busy"; pid?: number }
  | { kind: "absent" }
  | { kind: "unknown" };

/** Asked after a refused connect (ECONNREFUSED): is a daemon there that did not accept, or none? */
export function refusalCause(path: string): RefusalCause {
  const pid = liveDaemonPid(path);
  if (pid !== undefined) return { kind: "busy", pid };
  const listening = unixSocketListening(path);
  if (listening === undefined) return { kind: "unknown" };
  return listening ? { kind: "busy" } : { kind: "absent" };
}
