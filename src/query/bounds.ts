// A time window as a range of rowids (commit order) that holds every receipt
// of the window, found through the timestamp index. Readers then walk that
// range in commit order and still test each row's timestamp, so the result
// is exact whatever the clock did; the range only keeps the walk short.
//
// Each bound comes from whichever side is small: the rows outside the window
// on that side (at most CAP of them, then the bound is the first rowid that
// is not one of them) or the window itself (its min/max rowid). Cost: at most
// CAP index entries per side, or one pass over the window's index entries.
import type { Database } from "bun:sqlite";

export interface RowidRange {
  lo: number;
  hi: number;
}

export interface TimeWindow {
  /** Inclusive, as stored text (toISOString form). */
  since?: string;
  /** Exclusive. */
  until?: string;
}

const CAP = 10_000;

/** Rowids of rows outside the window on one side, or undefined when there are more than CAP. */
function outside(db: Database, sql: string, at: string): Set<number> | undefined {
  const rows = db.query<{ r: number }, [string, number]>(sql).all(at, CAP + 1);
  return rows.length > CAP ? undefined : new Set(rows.map((x) => x.r));
}

/** The rowid range holding every row of the window; null when the window holds no row at all. */
export function rowidRange(db: Database, w: TimeWindow): RowidRange | null {
  // Two queries: SQLite answers a lone min() or max() from the b-tree's edge, but both at once by reading every row.
  const first = db.query<{ r: number | null }, []>("SELECT min(rowid) AS r FROM receipts").get()?.r ?? null;
  const last = db.query<{ r: number | null }, []>("SELECT max(rowid) AS r FROM receipts").get()?.r ?? null;
  if (first === null || last === null) return null;
  const ends = { lo: first, hi: last };
  let window: { lo: number | null; hi: number | null } | undefined;
  const windowEnds = () => {
    window ??= db
      .query<{ lo: number | null; hi: number | null }, [string, string]>(
        "SELECT min(rowid) AS lo, max(rowid) AS hi FROM receipts WHERE timestamp >= ? AND timestamp < ?",
      )
      .get(w.since ?? "", w.until ?? "\u{10FFFF}") ?? { lo: null, hi: null };
    return window;
  };

  let hi = ends.hi;
  if (w.until !== undefined) {
    const later = outside(db, "SELECT rowid AS r FROM receipts WHERE timestamp >= ? LIMIT ?", w.until);
    if (later !== undefined) {
      while (hi >= ends.lo && later.has(hi)) hi--;
    } else {
      const e = windowEnds();
      if (e.hi === null) return null;
      hi = e.hi;
    }
  }
  let lo = ends.lo;
  if (w.since !== undefined) {
    const earlier = outside(db, "SELECT rowid AS r FROM receipts WHERE timestamp < ? LIMIT ?", w.since);
    if (earlier !== undefined) {
      while (lo <= ends.hi && earlier.has(lo)) lo++;
    } else {
      const e = windowEnds();
      if (e.lo === null) return null;
      lo = e.lo;
    }
  }
  return lo > hi ? null : { lo, hi };
}
