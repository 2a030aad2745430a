// verify's check of the transparency log: rebuilds the tree from the
// receipts in commit order (as the runs name them), compares it with the
// stored tree, and holds every checkpoint — stored ones, and those kept
// elsewhere (--checkpoint) — against it. A checkpoint larger than the
// receipts' tree means receipts were cut off (TRUNCATED); one whose root the
// receipts do not give means they were changed or removed (FORKED).
import type { Database } from "bun:sqlite";
import type { KeyObject } from "node:crypto";
import { rawPublicKey } from "../receipt/keys.ts";
import { hasTlogTables, TlogTables, withCosignatures, type StoredCheckpoint } from "../store/tlog-tables.ts";
import { TreeAppender } from "../tlog/appender.ts";
import { parseCheckpoint } from "../tlog/checkpoint.ts";
import { receiptLeaf } from "../tlog/leaf.ts";
import { EMPTY_ROOT, equalHashes, HASH_SIZE } from "../tlog/merkle.ts";
import { encodeBase64 } from "../tlog/note.ts";
import { hashAt, TILE_WIDTH, TreeHashes } from "../tlog/tree-hashes.ts";
import type { WitnessPolicy } from "./witness-policy.ts";
import { judge, judgeStored, originOf, type CheckpointVerdict } from "./checkpoint-verdict.ts";

export type { CheckpointState, CheckpointVerdict } from "./checkpoint-verdict.ts";

export interface LogCheck {
  /** The database has the log's tables. */
  present: boolean;
  /** Leaves in the stored tree. */
  treeSize: number;
  /** Receipts in the database; the tree rebuilt from them has this many leaves. */
  receipts: number;
  /** Receipts not in the stored tree yet (committed while the log was off; the daemon adds them at its next start). */
  unlogged: number;
  /** Where the stored tree and the receipts disagree. */
  treeProblems: string[];
  /** Leaves of the stored tree whose receipts are gone; `tailCut` when they all come after the last receipt still there. */
  missing: number;
  tailCut: boolean;
  /** Stored checkpoints: how many, and those that are not consistent. */
  stored: { count: number; newest: { size: number; createdAt: string; origin: string } | null; problems: CheckpointVerdict[] };
  /** Checkpoints given with --checkpoint (each note of each file). */
  external: CheckpointVerdict[];
  /** With --witness: the newest checkpoint (stored or given) with the quorum of cosignatures, if any. */
  witnessed: CheckpointVerdict | null;
  /** The log's verdict: ok, or what is wrong, worst first. */
  verdict: "ok" | "absent" | "truncated" | "forked" | "broken";
}

export interface ExternalNote {
  source: string;
  note: string;
}

const MAX_PROBLEMS = 20;
const ROW_BATCH = 50_000;

/** The tree rebuilt from the receipts in commit order, with its roots at the sizes asked for. */
class Rebuild {
  readonly appender = new TreeAppender(0, { tile: () => null });
  private readonly hashes = new TreeHashes(this.appender);
  readonly roots = new Map<number, Uint8Array>([[0, EMPTY_ROOT]]);

  constructor(private readonly wanted: ReadonlySet<number>) {}

  add(leaf: Uint8Array): void {
    this.appender.append(leaf);
    const size = this.appender.size;
    // Nothing is written: forget the completed tiles now and then, so memory stays flat.
    if (size % 4096 === 0) this.appender.take();
    // The root at the current size needs the edge tiles only, which the appender holds.
    if (this.wanted.has(size)) this.roots.set(size, this.hashes.root(size));
  }

  get size(): number {
    return this.appender.size;
  }
}

/** The stored leaves, read one tile at a time in order. */
class StoredLeaves {
  private tileIndex = -1;
  private tile: Uint8Array | null = null;

  constructor(private readonly tables: TlogTables) {}

  at(index: number): Uint8Array | null {
    const t = Math.floor(index / TILE_WIDTH);
    if (t !== this.tileIndex) {
      this.tile = this.tables.tile(0, t);
      this.tileIndex = t;
    }
    const offset = index - t * TILE_WIDTH;
    return this.tile === null || this.tile.length < (offset + 1) * HASH_SIZE ? null : hashAt(this.tile, offset);
  }
}

export interface LogCheckOptions {
  publicKey: KeyObject;
  external: readonly ExternalNote[];
  witnesses: WitnessPolicy | null;
}

/** Sizes the checkpoints need roots at; a note that does not parse needs none. */
function sizesOf(notes: readonly string[]): number[] {
  const sizes: number[] = [];
  for (const note of notes) {
    try {
      const split = note.lastIndexOf("\n\n");
      sizes.push(parseCheckpoint(note.slice(0, split + 1)).size);
    } catch {
      // judged (and reported) later
    }
  }
  return sizes;
}

export function checkLog(db: Database, opts: LogCheckOptions): LogCheck {
  if (!hasTlogTables(db)) {
    return {
      present: false, treeSize: 0, receipts: 0, unlogged: 0, treeProblems: [], missing: 0, tailCut: false, stored: { count: 0, newest: null, problems: [] },
      external: [], witnessed: null, verdict: opts.external.length > 0 ? "broken" : "absent",
    };
  }
  const key = rawPublicKey(opts.publicKey);
  db.run("BEGIN");
  try {
    return checkInSnapshot(db, key, opts);
  } finally {
    db.run("COMMIT");
  }
}

function checkInSnapshot(db: Database, key: Uint8Array, opts: LogCheckOptions): LogCheck {
  const tables = new TlogTables(db, true);
  const treeSize = tables.size();
  const runs = tables.runs();
  const storedCheckpoints: StoredCheckpoint[] = tables.checkpoints();
  const wanted = new Set<number>([...storedCheckpoints.map((c) => c.size), ...sizesOf(opts.external.map((e) => e.note)), treeSize]);
  const rebuild = new Rebuild(wanted);
  // Uncached: the leaves are read once each, in order; caching them all would hold the whole tree in memory.
  const storedLeaves = new StoredLeaves(new TlogTables(db, false));
  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  let missing = 0;
  let firstMissing = Number.MAX_SAFE_INTEGER;
  let lastPresent = -1;
  let differing = 0;
  let counted = 0;
  const range = db.query<{ rowid: number; receipt_hash: unknown }, [number, number, number]>(
    "SELECT rowid AS rowid, receipt_hash FROM receipts WHERE rowid >= ? AND rowid < ? ORDER BY rowid LIMIT ?",
  );
  let expectedLeaf = 0;
  for (const run of runs) {
    if (run.firstLeaf !== expectedLeaf) problem(`tlog_runs jumps from leaf ${expectedLeaf} to ${run.firstLeaf}`);
    expectedLeaf = run.firstLeaf + run.count;
    const end = run.firstRowid + run.count;
    let next = run.firstRowid;
    while (next < end) {
      const rows = range.all(next, end, ROW_BATCH);
      for (const row of rows) {
        if (row.rowid > next) {
          const gap = row.rowid - next;
          missing += gap;
          firstMissing = Math.min(firstMissing, run.firstLeaf + next - run.firstRowid);
          problem(`${gap} receipt(s) of leaves ${run.firstLeaf + next - run.firstRowid}..${run.firstLeaf + row.rowid - run.firstRowid - 1} are missing (rowids ${next}..${row.rowid - 1})`);
        }
        const leaf = receiptLeaf(row.receipt_hash);
        const index = run.firstLeaf + row.rowid - run.firstRowid;
        lastPresent = Math.max(lastPresent, index);
        const stored = storedLeaves.at(index);
        if (stored === null || !equalHashes(stored, leaf)) {
          differing++;
          problem(`leaf ${index} of the stored tree is not the leaf of its receipt (rowid ${row.rowid})`);
        }
        rebuild.add(leaf);
        counted++;
        next = row.rowid + 1;
      }
      if (rows.length < ROW_BATCH) {
        if (next < end) {
          missing += end - next;
          firstMissing = Math.min(firstMissing, run.firstLeaf + next - run.firstRowid);
          problem(`${end - next} receipt(s) of leaves ${run.firstLeaf + next - run.firstRowid}..${run.firstLeaf + run.count - 1} are missing (rowids ${next}..${end - 1})`);
        }
        break;
      }
    }
  }
  if (expectedLeaf !== treeSize) problem(`tlog_runs name ${expectedLeaf} leaves but the stored tree has ${treeSize}`);
  // Receipts after the tree's end: committed while the log was off. They count as the log's next leaves.
  const last = runs.length === 0 ? 0 : runs[runs.length - 1]!.firstRowid + runs[runs.length - 1]!.count - 1;
  let unlogged = 0;
  for (let from = last + 1; ; ) {
    const rows = range.all(from, Number.MAX_SAFE_INTEGER, ROW_BATCH);
    for (const row of rows) rebuild.add(receiptLeaf(row.receipt_hash));
    unlogged += rows.length;
    if (rows.length < ROW_BATCH) break;
    from = rows[rows.length - 1]!.rowid + 1;
  }
  const total = db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM receipts").get()?.n ?? 0;
  if (total > counted + unlogged) problem(`${total - counted - unlogged} receipt(s) have rowids outside the log's runs (inserted around the daemon)`);
  if (missing > 0 || differing > 0) {
    // Summaries first: a reader sees the size of the damage before the first examples.
    problems.unshift(...[missing > 0 ? `${missing} leaf/leaves of the stored tree have no receipt any more` : "", differing > 0 ? `${differing} stored leaf/leaves differ from their receipts` : ""].filter((p) => p !== ""));
  } else if (treeSize > 0 && treeSize === counted) {
    // Every leaf matches: the stored upper levels must give the same root, or proofs from them would not verify.
    try {
      const storedRoot = new TreeHashes(tables).root(treeSize);
      if (!equalHashes(storedRoot, rebuild.roots.get(treeSize)!)) problem(`the stored tree's upper levels do not give the receipts' root at size ${treeSize} (tlog_tiles altered)`);
    } catch (err) {
      problem(`the stored tree cannot give its root: ${(err as Error).message}`);
    }
  }
  const receipts = rebuild.size;
  const storedVerdicts = storedCheckpoints.map((c) => {
    // Witness cosignatures arrive after the checkpoint was stored: they are counted with it.
    const note = opts.witnesses === null ? c.note : withCosignatures(c.note, tables.cosignatures(c.size));
    return judgeStored(c, note, key, receipts, rebuild.roots, opts.witnesses);
  });
  const external = opts.external.map((e) => judge(e.source, e.note, key, receipts, rebuild.roots, undefined, opts.witnesses));
  let witnessed: CheckpointVerdict | null = null;
  if (opts.witnesses !== null) {
    const quorum = opts.witnesses.quorum;
    for (const v of [...storedVerdicts, ...external]) {
      const ok = (v.witnesses?.length ?? 0) >= quorum && v.state !== "bad_signature" && v.state !== "malformed";
      if (ok && (witnessed === null || v.size > witnessed.size)) witnessed = v;
    }
    for (const v of external) {
      if (v.state === "consistent" && (v.witnesses?.length ?? 0) < quorum) {
        v.state = "unwitnessed";
        v.detail = `it carries ${v.witnesses?.length ?? 0} of the ${quorum} witness cosignature(s) asked for`;
      }
    }
  }
  const newest = storedCheckpoints.length === 0 ? null : storedCheckpoints[storedCheckpoints.length - 1]!;
  const all = [...storedVerdicts, ...external];
  // Leaves whose receipts are gone, all after the last receipt still there: the tail was cut off.
  const tailCut = missing > 0 && firstMissing > lastPresent;
  const verdict = all.some((v) => v.state === "forked")
    ? "forked"
    : all.some((v) => v.state === "truncated") || tailCut
      ? "truncated"
      : problems.length > 0 || all.some((v) => v.state !== "consistent") || (opts.witnesses !== null && witnessed === null)
        ? "broken"
        : "ok";
  return {
    present: true,
    treeSize,
    receipts,
    unlogged,
    treeProblems: problems,
    missing,
    tailCut,
    stored: {
      count: storedCheckpoints.length,
      newest: newest === null ? null : { size: newest.size, createdAt: newest.createdAt, origin: originOf(newest.note) },
      problems: storedVerdicts.filter((v) => v.state !== "consistent"),
    },
    external,
    witnessed,
    verdict,
  };
}
