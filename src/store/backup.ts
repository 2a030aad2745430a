// An online copy of the database. `VACUUM INTO` on a read-only connection
// writes a consistent snapshot of everything committed, WAL included, while
// the daemon goes on writing (readers never block the WAL writer). The copy is
// one self-contained file in rollback-journal mode: no -wal or -shm to forget.
// It is written beside its destination under a temporary name and only put in
// place by publishCopy(), which never overwrites.
import { closeSync, constants, fsyncSync, linkSync, openSync, renameSync, statSync, unlinkSync, chmodSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UserFacingError } from "../errors.ts";
import { StoreReader } from "./reader.ts";
import { pathPresent } from "../os/files.ts";

export class BackupError extends UserFacingError {}

/** Where the copy is written before it is verified, in the destination's directory (so that publishing is a link). */
export function stagingPathFor(out: string): string {
  return join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
}

/** Refuses a destination that exists or whose directory does not. */
export function checkDestination(out: string): void {
  if (pathPresent(out)) throw new BackupError(`${out} already exists; backup never overwrites a file. Choose another --out, or move that file away first.`);
  const dir = dirname(out);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new BackupError(`directory ${dir} (of --out ${out}) does not exist. Create it first.`);
}

function fsyncPath(path: string, flags: number): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes a consistent snapshot of the database `source` to `staging` (which must not exist), flushed to disk. */
export function snapshotDatabase(source: string, staging: string): void {
  const reader = new StoreReader(source);
  try {
    reader.db.run("VACUUM INTO ?", [staging]);
  } catch (err) {
    throw new BackupError(`cannot write the copy of ${source} to ${staging}: ${(err as Error).message}. Check the free space and permissions of that directory.`);
  } finally {
    reader.close();
  }
  // VACUUM INTO does not sync its output; the copy must survive a power cut once reported.
  chmodSync(staging, 0o640);
  fsyncPath(staging, constants.O_RDONLY);
}

/** Puts the verified copy at `out` without ever replacing a file there, and makes the new name durable. */
export function publishCopy(staging: string, out: string): void {
  try {
    // link() fails with EEXIST rather than replace: no window in which an existing file could be overwritten.
    linkSync(staging, out);
    unlinkSync(staging);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new BackupError(`${out} appeared while the copy was being made; backup never overwrites a file. Choose another --out.`);
    // A file system without hard links: check, then rename (a small window, only there).
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EMLINK") throw err;
    if (pathPresent(out)) throw new BackupError(`${out} appeared while the copy was being made; backup never overwrites a file. Choose another --out.`);
    renameSync(staging, out);
  }
  fsyncPath(dirname(out), constants.O_RDONLY | constants.O_DIRECTORY);
}

/** Removes a staging copy that will not be published. */
export function discardCopy(staging: string): void {
  try {
    unlinkSync(staging);
  } catch {
    // never created
  }
}
