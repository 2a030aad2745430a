// Finds the running daemon without connecting: at each candidate socket, the
// kernel's table of listening sockets (Linux) and the status file the daemon
// keeps beside it. A status file whose pid is gone is left over from a daemon
// that did not stop cleanly.
import { lstatSync } from "node:fs";
import { unixSocketListening } from "../emitter/listening.ts";
import { readStatusFile, statusFilePath, type DaemonStatusFile, type StatusFileRead } from "./status-file.ts";

export interface Sighting {
  socket: string;
  /** A listening socket is bound to the path (undefined: the kernel's table cannot be read here). */
  listening: boolean | undefined;
  file: StatusFileRead;
  /** The status file's pid is a live process (undefined: no readable status file). */
  alive: boolean | undefined;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A status file is believed only if whoever owns the socket wrote it: in a shared directory anyone could leave one. */
function ownedLikeSocket(read: StatusFileRead, socket: string): StatusFileRead {
  if (read.kind !== "ok") return read;
  try {
    const fileOwner = lstatSync(read.path).uid;
    const socketOwner = lstatSync(socket).uid;
    if (fileOwner !== socketOwner) {
      return { kind: "invalid", path: read.path, message: `it belongs to uid ${fileOwner}, but the socket to uid ${socketOwner}: not written by this daemon` };
    }
  } catch {
    // The socket is gone (a crash leaves the file) or not visible to this user: nothing to compare.
  }
  return read;
}

export function look(socket: string): Sighting {
  const file = ownedLikeSocket(readStatusFile(statusFilePath(socket)), socket);
  return { socket, listening: unixSocketListening(socket), file, alive: file.kind === "ok" ? pidAlive(file.status.pid) : undefined };
}

/** A daemon runs at this socket: something listens there, or (where listening sockets cannot be listed) its status file's pid lives. */
export function running(s: Sighting): boolean {
  return s.listening ?? s.alive === true;
}

/** The status file of a running daemon, when readable. */
export function liveStatus(s: Sighting): DaemonStatusFile | null {
  return running(s) && s.file.kind === "ok" && s.alive === true ? s.file.status : null;
}

export interface Discovery {
  /** The running daemon: at the shell's socket if one runs there, else at the first candidate where one runs. */
  daemon: Sighting | null;
  /** Every candidate looked at, in order. */
  looked: Sighting[];
}

export function discover(shellSocket: string, candidates: string[]): Discovery {
  const looked = [...new Set([shellSocket, ...candidates])].map(look);
  return { daemon: looked.find(running) ?? null, looked };
}

/** What is left at a socket where no daemon runs, for the "not running" line; null when nothing is. */
export function leftover(s: Sighting): string | null {
  if (s.file.kind === "ok" && s.alive === false) {
    return `the daemon (pid ${s.file.status.pid}, started ${s.file.status.started_at}) did not stop cleanly: its status file ${s.file.path} is left over`;
  }
  return null;
}
