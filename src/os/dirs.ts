// Directories the daemon keeps its files in (docs/protocol.md §9). Its own
// ones are tightened; one that lets every user replace those files is
// refused, naming its owner. Checked before the daemon creates anything.
import { accessSync, chmodSync, constants, statSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import { loginOfUid } from "./accounts.ts";

export class UnsafeDirError extends Error {}

/** `root`, `alice (uid 1001)` or `uid 1234` (no account). */
export function ownerName(uid: number): string {
  if (uid === 0) return "root";
  const login = loginOfUid(uid);
  return login === undefined ? `uid ${uid}` : `${login} (uid ${uid})`;
}

export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

export function statIfExists(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** `path` itself when it exists, else its nearest existing ancestor. */
export function nearestExisting(path: string): string {
  let p = path;
  while (statIfExists(p) === undefined && dirname(p) !== p) p = dirname(p);
  return p;
}

/** Whether this process may create entries in directory `dir`. */
export function canCreateIn(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** World-writable without the sticky bit: anyone may rename or delete what is inside. */
export function replaceableByAnyone(st: Stats): boolean {
  return (st.mode & 0o002) !== 0 && (st.mode & 0o1000) === 0;
}

export interface Tightened {
  path: string;
  from: string;
  to: string;
}

const DATA_DIR_MAX_MODE = 0o750;

/**
 * The directories holding the database and the keys: the daemon's own ones
 * lose group and other write permission (0777 becomes 0750; a 0755 home
 * directory and a sticky one such as /tmp are left alone); another user's
 * that anyone may write is refused.
 */
export function secureDataDirs(files: string[], uid: number): Tightened[] {
  const tightened: Tightened[] = [];
  for (const dir of new Set(files.map((f) => dirname(f)))) {
    const st = statIfExists(dir);
    if (st === undefined) continue; // created 0750 when needed
    if (!st.isDirectory()) throw new UnsafeDirError(`${dir} is not a directory. Move it away or choose other --db/--key paths.`);
    const mode = st.mode & 0o7777;
    if (st.uid === uid) {
      // A sticky directory (such as /tmp) is shared by design and keeps others from replacing our files.
      if ((mode & 0o022) === 0 || (mode & 0o1000) !== 0) continue;
      const to = mode & DATA_DIR_MAX_MODE;
      chmodSync(dir, to);
      tightened.push({ path: dir, from: octal(mode), to: octal(to) });
    } else if (replaceableByAnyone(st)) {
      throw new UnsafeDirError(
        `directory ${dir} belongs to ${ownerName(st.uid)} and is writable by every user (mode ${octal(mode)}): anyone could replace the ` +
          `database or the keys in it. Fix: chmod 0750 ${dir} (as its owner), or choose other --db/--key paths.`,
      );
    }
  }
  return tightened;
}
