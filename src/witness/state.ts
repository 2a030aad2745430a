// The witness's durable state, in its own SQLite file: for each log (origin),
// the latest checkpoint it cosigned. WAL with synchronous=FULL, so a reply is
// sent only after the new state survives a power cut. Refused checkpoints that
// carried a valid log signature are kept (capped) as evidence of a fork.
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { checkDbFiles, ensureParentDir, tightenDbFiles } from "../os/files.ts";
import { UserFacingError } from "../errors.ts";

/** "ARwt": marks the file as a witness database, so a receipts database (or anything else) is never written by mistake. */
const APPLICATION_ID = 0x41527774;
const SCHEMA_VERSION = 1;
/** Evidence rows kept; the oldest go first. Only a log's own key can add them, so this bounds a misbehaving log, not the public. */
export const MAX_REFUSALS = 1000;

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS witness_logs (
  origin TEXT PRIMARY KEY,
  origin_hash TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  cosigned_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS witness_refusals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  origin TEXT NOT NULL,
  old_size INTEGER NOT NULL,
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  status INTEGER NOT NULL,
  reason TEXT NOT NULL,
  note TEXT NOT NULL,
  at INTEGER NOT NULL
);
`;

export class WitnessStateError extends UserFacingError {}

/** The latest checkpoint cosigned for one log. */
export interface CosignedState {
  origin: string;
  size: number;
  root: Uint8Array;
  /** The checkpoint with the log signatures that verified and this witness's cosignature. */
  note: string;
  /** POSIX seconds of that cosignature. */
  cosignedAt: number;
}

export interface Refusal {
  origin: string;
  oldSize: number;
  size: number;
  root: Uint8Array;
  status: number;
  reason: string;
  note: string;
  at: number;
}

interface StateRow {
  origin: string;
  size: number;
  root: Uint8Array;
  note: string;
  cosigned_at: number;
}

export function originHash(origin: string): string {
  return createHash("sha256").update(origin, "utf8").digest("hex");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function toState(row: StateRow | null): CosignedState | undefined {
  if (row === null) return undefined;
  return { origin: row.origin, size: row.size, root: new Uint8Array(row.root), note: row.note, cosignedAt: row.cosigned_at };
}

function openDatabase(path: string): Database {
  let db: Database | undefined;
  try {
    db = new Database(path, { create: true, readwrite: true, strict: true });
    db.run("PRAGMA busy_timeout = 5000");
    const appId = db.query<{ application_id: number }, []>("PRAGMA application_id").get()?.application_id ?? 0;
    const tables = db.query<{ n: number }, []>("SELECT count(*) AS n FROM sqlite_schema").get()?.n ?? 0;
    if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0)) {
      throw new WitnessStateError(`${path} is not a witness database (it already holds other tables). Give the witness its own --db file, e.g. witness.db.`);
    }
    const version = db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
    if (version > SCHEMA_VERSION) {
      throw new WitnessStateError(`witness database ${path} has schema version ${version}, newer than this program knows (${SCHEMA_VERSION}). Run the newer agent-receipts.`);
    }
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = FULL");
    db.transaction(() => {
      db!.run(SCHEMA_SQL);
      db!.run(`PRAGMA application_id = ${APPLICATION_ID}`);
      db!.run(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    }).immediate();
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof WitnessStateError) throw err;
    throw new WitnessStateError(`cannot open witness database ${path}: ${(err as Error).message}`);
  }
}

export class WitnessState {
  private readonly db: Database;
  private readonly byOrigin;
  private readonly byHash;
  private readonly upsert;
  private readonly addRefusal;
  private readonly trimRefusals;

  constructor(readonly path: string) {
    try {
      checkDbFiles(path);
      ensureParentDir(path);
    } catch (err) {
      throw new WitnessStateError((err as Error).message);
    }
    this.db = openDatabase(path);
    tightenDbFiles(path);
    this.byOrigin = this.db.prepare<StateRow, [string]>("SELECT origin, size, root, note, cosigned_at FROM witness_logs WHERE origin = ?");
    this.byHash = this.db.prepare<StateRow, [string]>("SELECT origin, size, root, note, cosigned_at FROM witness_logs WHERE origin_hash = ?");
    this.upsert = this.db.prepare<void, [string, string, number, Uint8Array, string, number]>(
      `INSERT INTO witness_logs (origin, origin_hash, size, root, note, cosigned_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, cosigned_at = excluded.cosigned_at`,
    );
    this.addRefusal = this.db.prepare<void, [string, number, number, Uint8Array, number, string, string, number]>(
      "INSERT INTO witness_refusals (origin, old_size, size, root, status, reason, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.trimRefusals = this.db.prepare<void, [number]>("DELETE FROM witness_refusals WHERE id <= (SELECT max(id) FROM witness_refusals) - ?");
  }

  latest(origin: string): CosignedState | undefined {
    return toState(this.byOrigin.get(origin));
  }

  latestByOriginHash(hash: string): CosignedState | undefined {
    return toState(this.byHash.get(hash));
  }

  /**
   * Runs `fn` in one write transaction: the check against the stored size and
   * the update are atomic, also against another process on the same file.
   */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * Records a newly cosigned checkpoint. The last line of defence: a smaller
   * size, or another root at the stored size, is refused here whatever the caller checked.
   */
  record(state: CosignedState): void {
    const previous = this.latest(state.origin);
    if (previous !== undefined && (state.size < previous.size || (state.size === previous.size && !sameBytes(state.root, previous.root)))) {
      throw new Error(`refusing to record size ${state.size} for ${state.origin}: it would roll back or fork the cosigned size ${previous.size}`);
    }
    this.upsert.run(state.origin, originHash(state.origin), state.size, state.root, state.note, state.cosignedAt);
  }

  recordRefusal(r: Refusal): void {
    this.addRefusal.run(r.origin, r.oldSize, r.size, r.root, r.status, r.reason, r.note, r.at);
    this.trimRefusals.run(MAX_REFUSALS);
  }

  refusals(origin: string): Refusal[] {
    return this.db
      .query<{ origin: string; old_size: number; size: number; root: Uint8Array; status: number; reason: string; note: string; at: number }, [string]>(
        "SELECT origin, old_size, size, root, status, reason, note, at FROM witness_refusals WHERE origin = ? ORDER BY id",
      )
      .all(origin)
      .map((r) => ({ origin: r.origin, oldSize: r.old_size, size: r.size, root: new Uint8Array(r.root), status: r.status, reason: r.reason, note: r.note, at: r.at }));
  }

  close(): void {
    this.byOrigin.finalize();
    this.byHash.finalize();
    this.upsert.finalize();
    this.addRefusal.finalize();
    this.trimRefusals.finalize();
    this.db.close();
  }
}
