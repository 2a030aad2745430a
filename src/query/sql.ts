// Small pieces of SQL with their parameters, so conditions can be combined
// without string juggling at every call site.
import type { SQLQueryBindings } from "bun:sqlite";

export type Param = Exclude<SQLQueryBindings, Record<string, unknown>>;

export interface SqlPart {
  sql: string;
  params: Param[];
}

export function part(sql: string, ...params: Param[]): SqlPart {
  return { sql, params };
}

/** `expr IN (?, ?, ...)`; callers never pass an empty list (an empty match is decided before any SQL). */
export function inList(expr: string, values: readonly Param[]): SqlPart {
  return values.length === 1 ? part(`${expr} = ?`, values[0]!) : part(`${expr} IN (${values.map(() => "?").join(", ")})`, ...values);
}

/** Parts joined with AND; `1` when there are none. */
export function and(parts: readonly SqlPart[]): SqlPart {
  if (parts.length === 0) return part("1");
  return { sql: parts.map((p) => `(${p.sql})`).join(" AND "), params: parts.flatMap((p) => p.params) };
}

/** A GLOB pattern matching `text` literally: *, ? and [ lose their meaning. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[]/g, (c) => `[${c}]`);
}

/** The literal start of a GLOB pattern (before its first wildcard): the index range to look in. */
export function globPrefix(pattern: string): string {
  const i = pattern.search(/[*?[]/);
  return i < 0 ? pattern : pattern.slice(0, i);
}

/** The part of a path after its last "/", in SQL (SQLite has no basename function). */
export function baseNameSql(expr: string): string {
  return `substr(${expr}, length(rtrim(${expr}, replace(${expr}, '/', ''))) + 1)`;
}
