// The filter's fields other than chain and time, each as a condition a row
// can be tested with and, where an index covers it, as the form that lets
// that index select the rows in commit order.
//
// A GLOB cannot walk an index in commit order (its rows come sorted by the
// matched value), so a pattern is first expanded into the distinct stored
// values it matches, found one index seek per distinct value; `IN (those)`
// then walks the index in commit order. Tool names, action types and
// executables have few distinct values; past MAX_VALUES the term only tests rows.
import type { Database } from "bun:sqlite";
import { PEER_EXE_EXPR, PEER_UID_EXPR, SESSION_EXPR } from "../store/schema.ts";
import { riskAtLeast, type ReceiptFilter } from "./filter.ts";
import { baseNameSql, escapeGlob, globPrefix, inList, part, type SqlPart } from "./sql.ts";

export interface Term {
  /** The flag it comes from, for plans and messages. */
  flag: string;
  /** The condition as a test of one row: valid for rows committed later too (tail -f). */
  test: SqlPart;
  /** The index that selects this term's rows in commit order, and the condition in the form it can use. */
  driver?: { index: string; where: SqlPart };
  /** No stored value matches: the selection is empty. */
  empty: boolean;
}

const MAX_VALUES = 1000;

/** The distinct values of `expr` from `prefix` on that start with it, in index order; undefined past MAX_VALUES. */
function distinctValues(db: Database, expr: string, index: string, prefix: string): string[] | undefined {
  const first = db.query<{ v: unknown }, [string]>(`SELECT min(${expr}) AS v FROM receipts INDEXED BY ${index} WHERE ${expr} >= ?`);
  const next = db.query<{ v: unknown }, [string]>(`SELECT min(${expr}) AS v FROM receipts INDEXED BY ${index} WHERE ${expr} > ?`);
  const values: string[] = [];
  let v = first.get(prefix)?.v;
  while (typeof v === "string" && v.startsWith(prefix)) {
    values.push(v);
    if (values.length > MAX_VALUES) return undefined;
    v = next.get(v)?.v;
  }
  return values;
}

interface GlobSpec {
  flag: string;
  expr: string;
  index: string;
  pattern: string;
  /** Match the pattern against the base name of the value (a path) instead of the whole value. */
  baseName?: boolean;
}

function globTerm(db: Database | null, indexes: ReadonlySet<string>, g: GlobSpec): Term {
  const tested = g.baseName ? baseNameSql(g.expr) : g.expr;
  const test = part(`${tested} GLOB ?`, g.pattern);
  if (db === null || !indexes.has(g.index)) return { flag: g.flag, test, empty: false };
  const values = distinctValues(db, g.expr, g.index, g.baseName ? "" : globPrefix(g.pattern));
  if (values === undefined) return { flag: g.flag, test, empty: false };
  // SQLite itself decides each match, so the expansion means exactly what the GLOB means.
  const matches = db.query<{ m: number }, [string, string]>(`SELECT (${g.baseName ? baseNameSql("?1") : "?1"}) GLOB ?2 AS m`);
  const matching = values.filter((v) => matches.get(v, g.pattern)?.m === 1);
  if (matching.length === 0) return { flag: g.flag, test, empty: true };
  return { flag: g.flag, test, empty: false, driver: { index: g.index, where: inList(g.expr, matching) } };
}

function equalTerm(indexes: ReadonlySet<string>, flag: string, index: string, where: SqlPart): Term {
  return indexes.has(index) ? { flag, test: where, driver: { index, where }, empty: false } : { flag, test: where, empty: false };
}

/**
 * The terms of `f` (chain, agent and time aside), in the order their flags
 * are documented. Without a database (null) they are row tests only.
 */
export function termsOf(db: Database | null, indexes: ReadonlySet<string>, f: ReceiptFilter): Term[] {
  const terms: Term[] = [];
  if (f.session !== undefined) terms.push(equalTerm(indexes, "--session", "idx_receipts_session", part(`${SESSION_EXPR} = ?`, f.session)));
  if (f.channel !== undefined) {
    terms.push(globTerm(db, indexes, { flag: "--channel", expr: "action_type", index: "idx_receipts_action_type", pattern: `${escapeGlob(f.channel)}.*` }));
  }
  if (f.tool !== undefined) terms.push(globTerm(db, indexes, { flag: "--tool", expr: "tool_name", index: "idx_receipts_tool_name", pattern: f.tool }));
  if (f.type !== undefined) terms.push(globTerm(db, indexes, { flag: "--type", expr: "action_type", index: "idx_receipts_action_type", pattern: f.type }));
  if (f.risk !== undefined) terms.push(equalTerm(indexes, "--risk", "idx_receipts_risk_level", inList("risk_level", riskAtLeast(f.risk))));
  if (f.status !== undefined) terms.push(equalTerm(indexes, "--status", "idx_receipts_status", part("status = ?", f.status)));
  if (f.uid !== undefined) terms.push(equalTerm(indexes, "--uid", "idx_receipts_peer_uid", part(`${PEER_UID_EXPR} = ?`, f.uid)));
  if (f.exe !== undefined) {
    terms.push(globTerm(db, indexes, { flag: "--exe", expr: PEER_EXE_EXPR, index: "idx_receipts_peer_exe", pattern: f.exe, baseName: !f.exe.includes("/") }));
  }
  return terms;
}

/** The terms as plain row tests, for rows committed after a plan was made. */
export function rowTests(f: ReceiptFilter): SqlPart[] {
  return termsOf(null, new Set(), f).map((t) => t.test);
}
