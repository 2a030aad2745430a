// Opens the receipts database for reading without ever writing anything:
// no -wal or -shm file is created and no write lock is taken, so it works
// for a uid with group read access only, with the daemon up or down.
//
// SQLite's read-only mode (mode=ro) still creates -wal and -shm for a WAL
// database whose writer has gone (measured: both appear and stay). So:
// - a -wal file exists (a writer is live, or crashed): mode=ro, which reads
//   through the WAL like any reader and sees every commit;
// - no -wal file (no writer since the last clean stop, which folded the WAL
//   into the file): immutable=1, a snapshot of the file that creates and
//   locks nothing. A reader that runs for long calls stale() between reads
//   and reopens once a writer appears (before the new writer can checkpoint
//   into the file it needs ~1,000 pages of WAL, so a check per page of rows
//   or per poll is in time).
import { constants as sqliteFlags, Database } from "bun:sqlite";
import { accessSync, constants, statSync } from "node:fs";
import { resolve } from "node:path";
import { UserFacingError } from "../errors.ts";
import { checkRegularOrAbsent } from "../os/files.ts";
import { describeSqliteError, schemaProblem } from "./schema-check.ts";

export type ReadMode = "wal" | "snapshot";

/** The database cannot be read; the message names the path and the fix (exit 2). */
export class DatabaseReadError extends UserFacingError {}

/** Identity of the database file and its WAL: when it changes, a connection may no longer see new commits. */
function filesIdentity(path: string): string {
  const id = (p: string) => {
    try {
      const st = statSync(p);
      return `${st.dev}:${st.ino}`;
    } catch {
      return "-";
    }
  };
  return `${id(path)}/${id(`${path}-wal`)}`;
}

function walPresent(path: string): boolean {
  try {
    statSync(`${path}-wal`);
    return true;
  } catch {
    return false;
  }
}

/** A `file:` URI for SQLite: only %, ? and # need escaping in the path. */
function uriOf(path: string, query: string): string {
  return `file:${resolve(path).replace(/[%?#]/g, (c) => encodeURIComponent(c))}?${query}`;
}

function cannotRead(path: string, reason: string): DatabaseReadError {
  return new DatabaseReadError(
    `cannot read database ${path}: ${reason}. Read it as its owner or as a member of its group ` +
      "(agentreceipts-read on a system install), or pass --db PATH.",
  );
}

export class ReadOnlyDatabase {
  readonly db: Database;
  readonly mode: ReadMode;
  private readonly identity: string;

  constructor(readonly path: string) {
    let exists: boolean;
    try {
      exists = checkRegularOrAbsent(path, "database");
    } catch (err) {
      // The directory itself refuses this user.
      if ((err as NodeJS.ErrnoException).code === "EACCES") throw cannotRead(path, "permission denied (on its directory)");
      throw new DatabaseReadError((err as Error).message);
    }
    if (!exists) {
      throw new DatabaseReadError(`database ${path} does not exist. Pass --db PATH, or start the daemon (agent-receipts daemon) to create it.`);
    }
    try {
      accessSync(path, constants.R_OK);
    } catch (err) {
      throw cannotRead(path, (err as NodeJS.ErrnoException).code === "EACCES" ? "permission denied" : (err as Error).message);
    }
    this.identity = filesIdentity(path);
    this.mode = walPresent(path) ? "wal" : "snapshot";
    try {
      this.db = new Database(uriOf(path, this.mode === "wal" ? "mode=ro" : "immutable=1"), sqliteFlags.SQLITE_OPEN_READONLY | sqliteFlags.SQLITE_OPEN_URI);
    } catch (err) {
      throw cannotRead(path, (err as Error).message);
    }
    try {
      this.db.run("PRAGMA busy_timeout = 5000");
      const problem = schemaProblem(this.db, path, false);
      if (problem !== undefined) throw new DatabaseReadError(problem);
    } catch (err) {
      this.db.close();
      if (err instanceof DatabaseReadError) throw err;
      const described = describeSqliteError(path, err);
      if (described !== undefined && (err as { code?: string }).code === "SQLITE_NOTADB") throw new DatabaseReadError(described);
      // Typically a -wal or -shm this user may not read.
      throw cannotRead(path, `${(err as Error).message} (the -wal and -shm files beside it must be readable too)`);
    }
  }

  /**
   * True when a writer appeared, left or replaced its WAL (or the file was
   * replaced) since this connection was opened: reopen to see its commits.
   */
  stale(): boolean {
    return filesIdentity(this.path) !== this.identity;
  }

  /** Names of the indexes the database has. */
  indexNames(): Set<string> {
    return new Set(this.db.query<{ name: string }, []>("SELECT name FROM pragma_index_list('receipts')").all().map((r) => r.name));
  }

  close(): void {
    this.db.close();
  }
}
