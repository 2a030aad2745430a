// Recognises this project's database before any query runs, so that a wrong
// file is refused with its path and what was expected instead of SQLite's
// bare "file is not a database" or "no such column: chain_id".
import type { Database } from "bun:sqlite";
import { ROW_COLUMNS } from "./schema.ts";

const FIX = "Point --db at the daemon's receipts database (receipts.db), or move this file away";

/** An error thrown by SQLite on `path`, worded for the user; undefined for errors that carry their own path. */
export function describeSqliteError(path: string, err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code !== "string" || !e.code.startsWith("SQLITE_")) return undefined;
  if (e.code === "SQLITE_NOTADB") {
    return `${path} is not an SQLite database (${String(e.message)}); expected the agent-receipts database. ${FIX}.`;
  }
  return `cannot open database ${path}: ${String(e.message)} (${e.code})`;
}

/**
 * What is wrong with `db` as a receipts database, or undefined when it is one.
 * `creating`: the caller (the daemon) creates the table in an empty database,
 * so only a database that holds other tables and no `receipts` is wrong.
 */
export function schemaProblem(db: Database, path: string, creating: boolean): string | undefined {
  const columns = new Set(db.query<{ name: string }, []>("SELECT name FROM pragma_table_info('receipts')").all().map((c) => c.name));
  if (columns.size === 0) {
    const tables = db
      .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all()
      .map((t) => t.name);
    if (creating && tables.length === 0) return undefined;
    const holds = tables.length === 0 ? "is empty" : `holds other tables (${tables.slice(0, 5).join(", ")}${tables.length > 5 ? ", ..." : ""})`;
    return `${path} is not an agent-receipts database: it has no receipts table and ${holds}. ${FIX}.`;
  }
  const missing = ROW_COLUMNS.filter((c) => !columns.has(c));
  if (missing.length === 0) return undefined;
  return `${path} is not an agent-receipts database: its receipts table lacks the column${missing.length > 1 ? "s" : ""} ` +
    `${missing.join(", ")} (another program's or another version's schema). ${FIX}.`;
}
