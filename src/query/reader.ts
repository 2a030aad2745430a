// The shared read-only query layer: `list`, `show`, `tail` and `export` (and
// anything else that reads receipts) select through it. Every selection is
// led by one index — the chain index, a filter's index, or the rowid range of
// a time window, whichever promises the fewest rows — and every other
// condition is tested on the rows it yields, so a query costs about the
// number of rows it returns, not the size of the database.
import type { Database } from "bun:sqlite";
import { ReadOnlyDatabase, type ReadMode } from "../store/open-readonly.ts";
import { rowidRange, type RowidRange, type TimeWindow } from "./bounds.ts";
import { chainInfo, chainSql, listChains, selectChains, type ChainInfo } from "./chains.ts";
import type { ReceiptFilter } from "./filter.ts";
import { RECORD_COLUMNS, toStoredReceipt, type RecordRow, type StoredReceipt } from "./record.ts";
import { and, part, type SqlPart } from "./sql.ts";
import { rowTests, termsOf, type Term } from "./terms.ts";

export interface SelectOptions {
  limit: number;
  /** The first `limit` receipts, oldest first, instead of the newest, newest first. */
  oldestFirst?: boolean;
}

/** A receipt as an export writes it. */
export interface SliceRow {
  sequence: number;
  json: string;
}

/** Part of one chain to export: sequences `from`..`to`, both inclusive. */
export interface ChainSlice {
  chain: ChainInfo;
  from: number;
  to: number;
}

/** Estimated rows above this count are all "many": counting further would cost more than it saves. */
const ESTIMATE_CAP = 20_000;
const EXPORT_PAGE = 500;

function windowOf(f: ReceiptFilter): TimeWindow | undefined {
  if (f.since === undefined && f.until === undefined) return undefined;
  const w: TimeWindow = {};
  if (f.since !== undefined) w.since = f.since.toISOString();
  if (f.until !== undefined) w.until = f.until.toISOString();
  return w;
}

/** Stored timestamps are toISOString() text, so text order is time order. */
function timeTests(w: TimeWindow | undefined): SqlPart[] {
  const tests: SqlPart[] = [];
  if (w?.since !== undefined) tests.push(part("timestamp >= ?", w.since));
  if (w?.until !== undefined) tests.push(part("timestamp < ?", w.until));
  return tests;
}

function withoutTerm(terms: readonly Term[], skip: Term | undefined): SqlPart[] {
  return terms.filter((t) => t !== skip).map((t) => t.test);
}

export class ReceiptReader {
  private conn: ReadOnlyDatabase;
  private indexes: Set<string>;
  private chainIndex: string | undefined;

  constructor(readonly path: string) {
    this.conn = new ReadOnlyDatabase(path);
    [this.indexes, this.chainIndex] = this.inspect();
  }

  get db(): Database {
    return this.conn.db;
  }

  get mode(): ReadMode {
    return this.conn.mode;
  }

  /** Reopens when a writer appeared, left or replaced the WAL since the last open; true when it did. */
  refresh(): boolean {
    if (!this.conn.stale()) return false;
    const next = new ReadOnlyDatabase(this.path);
    this.conn.close();
    this.conn = next;
    [this.indexes, this.chainIndex] = this.inspect();
    return true;
  }

  close(): void {
    this.conn.close();
  }

  private inspect(): [Set<string>, string | undefined] {
    const indexes = this.conn.indexNames();
    // The UNIQUE (chain_id, sequence) constraint's index has a generated name.
    const unique = this.db
      .query<{ name: string }, []>(
        "SELECT l.name AS name FROM pragma_index_list('receipts') AS l WHERE l.\"unique\" = 1 AND " +
          "(SELECT group_concat(i.name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno) AS i) = 'chain_id,sequence'",
      )
      .get();
    return [indexes, unique?.name];
  }

  /** One consistent snapshot for the several queries of one selection. */
  private snapshot<T>(fn: () => T): T {
    this.db.run("BEGIN");
    try {
      return fn();
    } finally {
      this.db.run("COMMIT");
    }
  }

  chains(): ChainInfo[] {
    return listChains(this.db);
  }

  chain(chainId: string): ChainInfo | undefined {
    return chainInfo(this.db, chainId);
  }

  /** The chains the filter's chain and agent fields select; undefined when it does not narrow by chain. */
  private chainsOf(f: ReceiptFilter): ChainInfo[] | undefined {
    if (f.agent !== undefined) return selectChains(this.chains(), f);
    if (f.chain === undefined) return undefined;
    const one = this.chain(f.chain);
    return one === undefined ? [] : [one];
  }

  /** The newest (or, with oldestFirst, the oldest) `limit` receipts matching `f`, in that order. */
  select(f: ReceiptFilter, opts: SelectOptions): StoredReceipt[] {
    return this.snapshot(() => this.selectIn(f, opts));
  }

  private selectIn(f: ReceiptFilter, opts: SelectOptions): StoredReceipt[] {
    const chains = this.chainsOf(f);
    if (chains !== undefined && chains.length === 0) return [];
    const terms = termsOf(this.db, this.indexes, f);
    if (terms.some((t) => t.empty)) return [];
    const window = windowOf(f);
    const range = window === undefined ? undefined : rowidRange(this.db, window);
    if (range === null) return [];
    const dir = opts.oldestFirst ? "ASC" : "DESC";

    // The leading index: the one that promises the fewest rows.
    let best: { cost: number; lead: "chains" | "range" | Term } | undefined;
    const consider = (cost: number, lead: "chains" | "range" | Term) => {
      if (best === undefined || cost < best.cost) best = { cost, lead };
    };
    if (range !== undefined) consider(range.hi - range.lo + 1, "range");
    if (chains !== undefined && this.chainIndex !== undefined) consider(chains.reduce((n, c) => n + c.lastSequence - c.firstSequence + 1, 0), "chains");
    // Counting a term's rows stops where it could no longer win.
    for (const t of terms) if (t.driver !== undefined) consider(this.estimate(t, Math.min(ESTIMATE_CAP, best?.cost ?? ESTIMATE_CAP)), t);

    const chainTest = chainSql(f);
    const rest = (skip: Term | undefined, withChain: boolean): SqlPart[] => [
      ...withoutTerm(terms, skip), ...timeTests(window), ...(withChain && chainTest !== undefined ? [chainTest] : []),
    ];
    const rangePart = range === undefined ? [] : [part("rowid BETWEEN ? AND ?", range.lo, range.hi)];

    if (best?.lead === "chains") return this.selectByChains(chains!, range, rest(undefined, false), opts);
    if (best !== undefined && typeof best.lead === "object") {
      const t = best.lead;
      return this.rows(`INDEXED BY ${t.driver!.index}`, and([t.driver!.where, ...rangePart, ...rest(t, true)]), `rowid ${dir}`, opts.limit);
    }
    return this.rows("NOT INDEXED", and([...rangePart, ...rest(undefined, true)]), `rowid ${dir}`, opts.limit);
  }

  private rows(hint: string, where: SqlPart, order: string, limit: number): StoredReceipt[] {
    return this.db
      .query<RecordRow, SqlPart["params"]>(`SELECT ${RECORD_COLUMNS} FROM receipts ${hint} WHERE ${where.sql} ORDER BY ${order} LIMIT ?`)
      .all(...where.params, limit)
      .map(toStoredReceipt);
  }

  /** How many rows a term's index holds for it, counted up to `cap` (index entries only). */
  private estimate(t: Term, cap: number): number {
    const d = t.driver!;
    return this.db
      .query<{ n: number }, SqlPart["params"]>(`SELECT count(*) AS n FROM (SELECT 1 FROM receipts INDEXED BY ${d.index} WHERE ${d.where.sql} LIMIT ?)`)
      .get(...d.where.params, cap)?.n ?? 0;
  }

  /** Each chain walked in sequence order (which is its commit order), then merged by rowid. */
  private selectByChains(chains: readonly ChainInfo[], range: RowidRange | undefined, tests: SqlPart[], opts: SelectOptions): StoredReceipt[] {
    const dir = opts.oldestFirst ? "ASC" : "DESC";
    const all: StoredReceipt[] = [];
    for (const c of chains) {
      const slice = range === undefined ? { from: c.firstSequence, to: c.lastSequence } : this.sliceOf(c, range);
      if (slice === null) continue;
      const where = and([part("chain_id = ? AND sequence BETWEEN ? AND ?", c.chainId, slice.from, slice.to), ...tests]);
      all.push(...this.rows(`INDEXED BY ${this.chainIndex}`, where, `sequence ${dir}`, opts.limit));
    }
    all.sort((a, b) => (opts.oldestFirst ? a.rowid - b.rowid : b.rowid - a.rowid));
    return all.slice(0, opts.limit);
  }

  /** The first existing position of `chainId` at or after `sequence`. */
  private nextPosition(chainId: string, sequence: number): { sequence: number; rowid: number } | null {
    return this.db
      .query<{ sequence: number; rowid: number }, [string, number]>(
        "SELECT sequence, rowid AS rowid FROM receipts WHERE chain_id = ? AND sequence >= ? ORDER BY sequence LIMIT 1",
      )
      .get(chainId, sequence);
  }

  /** The smallest sequence of the chain whose rowid is at least `rowid` (rowids grow with sequences in a chain); null past the end. */
  private firstSequenceFrom(c: ChainInfo, rowid: number): number | null {
    let lo = c.firstSequence;
    let hi = c.lastSequence + 1;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const at = this.nextPosition(c.chainId, mid);
      if (at === null || at.rowid >= rowid) hi = mid;
      else lo = at.sequence + 1;
    }
    return this.nextPosition(c.chainId, lo)?.sequence ?? null;
  }

  /** The sequences of chain `c` whose rowids fall in `range`; null when none do. */
  private sliceOf(c: ChainInfo, range: RowidRange): { from: number; to: number } | null {
    if (c.lastRowid < range.lo || c.firstRowid > range.hi) return null;
    const from = this.firstSequenceFrom(c, range.lo);
    const after = this.firstSequenceFrom(c, range.hi + 1);
    const to = after === null ? c.lastSequence : this.db
      .query<{ s: number | null }, [string, number]>("SELECT max(sequence) AS s FROM receipts WHERE chain_id = ? AND sequence < ?")
      .get(c.chainId, after)?.s ?? null;
    return from === null || to === null || from > to ? null : { from, to };
  }

  /**
   * Receipts committed after `rowid` that match `f`, oldest first, at most
   * `max`: the follow step of `tail -f`. Plain row tests, so values and chains
   * that appear later (a new tool, a continuation chain) match too.
   */
  after(rowid: number, f: ReceiptFilter, max: number): StoredReceipt[] {
    const chainTest = chainSql(f);
    const where = and([part("rowid > ?", rowid), ...rowTests(f), ...timeTests(windowOf(f)), ...(chainTest === undefined ? [] : [chainTest])]);
    return this.rows("NOT INDEXED", where, "rowid ASC", max);
  }

  /** The newest rowid (0 for an empty database). */
  lastRowid(): number {
    return this.db.query<{ r: number | null }, []>("SELECT max(rowid) AS r FROM receipts").get()?.r ?? 0;
  }

  byId(id: string): StoredReceipt | null {
    const row = this.db.query<RecordRow, [string]>(`SELECT ${RECORD_COLUMNS} FROM receipts WHERE id = ?`).get(id);
    return row === null ? null : toStoredReceipt(row);
  }

  at(chainId: string, sequence: number): StoredReceipt | null {
    const row = this.db.query<RecordRow, [string, number]>(`SELECT ${RECORD_COLUMNS} FROM receipts WHERE chain_id = ? AND sequence = ?`).get(chainId, sequence);
    return row === null ? null : toStoredReceipt(row);
  }

  /**
   * What an export of `f` holds, per chain (oldest chain first): for a time
   * window, each chain's contiguous run from its first receipt inside the
   * window to its last, so every part verifies as a segment of its chain.
   */
  exportPlan(f: ReceiptFilter): ChainSlice[] {
    return this.snapshot(() => {
      const all = this.chains();
      const chains = selectChains(all, f) ?? all;
      const window = windowOf(f);
      if (window === undefined) return chains.map((chain) => ({ chain, from: chain.firstSequence, to: chain.lastSequence }));
      const range = rowidRange(this.db, window);
      if (range === null) return [];
      const slices: ChainSlice[] = [];
      for (const chain of chains) {
        const s = this.sliceOf(chain, range);
        const trimmed = s === null ? null : this.trimToWindow(chain.chainId, s, window);
        if (trimmed !== null) slices.push({ chain, ...trimmed });
      }
      return slices;
    });
  }

  /** Moves the ends of a slice inward past receipts whose time is outside the window (a clock that stepped back). */
  private trimToWindow(chainId: string, s: { from: number; to: number }, w: TimeWindow): { from: number; to: number } | null {
    const inside = this.db.query<{ n: number }, [string, number, string, string]>(
      "SELECT count(*) AS n FROM receipts WHERE chain_id = ? AND sequence = ? AND timestamp >= ? AND timestamp < ?",
    );
    const ok = (seq: number) => inside.get(chainId, seq, w.since ?? "", w.until ?? "\u{10FFFF}")?.n === 1;
    let { from, to } = s;
    while (from <= to && !ok(from)) from++;
    while (to >= from && !ok(to)) to--;
    return from > to ? null : { from, to };
  }

  /**
   * The receipts of one slice that match `f`, in sequence order: the stored
   * text and its sequence only (an export writes nothing else). Read a page
   * at a time, so that a writer appearing meanwhile is noticed (refresh).
   */
  *slice(s: ChainSlice, f: ReceiptFilter): Generator<SliceRow> {
    const tests = rowTests(f);
    const hint = () => (this.chainIndex === undefined ? "" : `INDEXED BY ${this.chainIndex}`);
    let next = s.from;
    while (next <= s.to) {
      this.refresh();
      const where = and([part("chain_id = ? AND sequence >= ? AND sequence <= ?", s.chain.chainId, next, s.to), ...tests]);
      const page = this.db
        .query<Record<string, never>, SqlPart["params"]>(`SELECT sequence, receipt_json FROM receipts ${hint()} WHERE ${where.sql} ORDER BY sequence LIMIT ?`)
        .values(...where.params, EXPORT_PAGE) as Array<[number, unknown]>;
      if (page.length === 0) return;
      for (const [sequence, json] of page) yield { sequence, json: typeof json === "string" ? json : String(json) };
      next = page[page.length - 1]![0] + 1;
    }
  }
}
