// A database has exactly one writer. The daemon holds an exclusive flock on
// `<db>.lock` for its whole life; a second daemon on the same database is
// refused with the holder's pid and socket. Readers (verify, backup) never
// take it. The file is never removed: unlinking a lock file lets two
// processes lock two different inodes under one name.
import { closeSync, constants, fchmodSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { tryLockExclusive } from "../os/flock.ts";
import { checkRegularOrAbsent, ensureParentDir } from "../os/files.ts";

export class WriterLockError extends Error {}

export interface WriterLock {
  readonly path: string;
  release(): void;
}

interface Holder {
  pid?: unknown;
  socket?: unknown;
}

export function writerLockPath(dbPath: string): string {
  return `${dbPath}.lock`;
}

/** Who holds the lock, as its file says (written right after it took the lock). */
function holderText(path: string): string {
  let holder: Holder = {};
  try {
    holder = JSON.parse(readFileSync(path, "utf8")) as Holder;
  } catch {
    // Being written right now, or not ours: say what is known.
  }
  const pid = typeof holder.pid === "number" ? `pid ${holder.pid}` : "pid not recorded yet";
  return typeof holder.socket === "string" ? `${pid}, socket ${holder.socket}` : pid;
}

/** Takes the database's writer lock for this process, or throws naming the daemon that holds it. */
export function acquireWriterLock(dbPath: string, socketPath: string): WriterLock {
  const path = writerLockPath(dbPath);
  checkRegularOrAbsent(path, "lock file");
  ensureParentDir(dbPath);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  let locked = false;
  try {
    locked = tryLockExclusive(fd);
    if (!locked) {
      throw new WriterLockError(
        `database ${dbPath} is already being written by another daemon (${holderText(path)}); a database has exactly one writer. ` +
          "Stop that daemon first, or give this one its own --db.",
      );
    }
    // flock needs only a read descriptor: anyone able to open the file could hold the lock and keep the daemon from starting.
    fchmodSync(fd, 0o600);
    ftruncateSync(fd, 0);
    writeSync(fd, `${JSON.stringify({ pid: process.pid, socket: socketPath })}\n`, 0);
  } finally {
    if (!locked) closeSync(fd);
  }
  return { path, release: () => closeSync(fd) };
}
