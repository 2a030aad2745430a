// File safety rules of docs/protocol.md §9 for the database and its WAL companions.
import { chmodSync, lstatSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

export class UnsafeFileError extends Error {}

const DB_MAX_MODE = 0o640;

/** Whether anything (a dangling symlink too) is at `path`. */
export function pathPresent(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Refuses a symlink or non-regular file at `path`; absent is fine. Returns whether it exists. */
export function checkRegularOrAbsent(path: string, what: string): boolean {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  if (st.isSymbolicLink()) throw new UnsafeFileError(`${what} ${path} is a symlink; refusing to follow it. Replace it with a regular file.`);
  if (!st.isFile()) throw new UnsafeFileError(`${what} ${path} is not a regular file. Move it away or choose another path.`);
  return true;
}

export function dbFiles(dbPath: string): string[] {
  return [dbPath, `${dbPath}-wal`, `${dbPath}-shm`];
}

/** Refuses symlinks among the database files (before opening). */
export function checkDbFiles(dbPath: string): void {
  for (const path of dbFiles(dbPath)) checkRegularOrAbsent(path, "database file");
}

/** Tightens the database files to at most 0640 (after opening, when they exist). */
export function tightenDbFiles(dbPath: string): void {
  for (const path of dbFiles(dbPath)) {
    if (!checkRegularOrAbsent(path, "database file")) continue;
    const mode = lstatSync(path).mode & 0o777;
    if ((mode & ~DB_MAX_MODE) !== 0) chmodSync(path, mode & DB_MAX_MODE);
  }
}

/** Creates a directory (and parents) with mode 0750 when missing. */
export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o750 });
}

export function ensureParentDir(path: string): void {
  ensurePrivateDir(dirname(path));
}
