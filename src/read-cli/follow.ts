// `tail -f`: every receipt committed after the start, as it is committed.
//
// No busy loop. Each check is one indexed query for rows past the last rowid
// printed (one B-tree seek when nothing is new), two stat calls (has a writer
// appeared, left, or replaced its WAL? then reopen) and one poll(2) on stdout
// (has its reader gone?). Checks run every ACTIVE_MS while the database is
// being written, and every IDLE_MS otherwise; a change to the database's files
// (inotify/kqueue through fs.watch: a commit writes the -wal file) wakes the
// follower at once. The commit becomes visible only when the writer updates
// the -shm index after its fsync, which no file event announces, so after an
// event checks go on every ACTIVE_MS for a while. Without a file watch (not
// permitted, no inotify watches left) it checks every ACTIVE_MS.
//
// The connection is read-only and never blocks the writer; a daemon restart,
// a chain advance (X -> X-2: new rows, same table) and WAL checkpoints are all
// just "more rows" to it.
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { ReceiptFilter } from "../query/filter.ts";
import type { ReceiptReader } from "../query/reader.ts";
import type { StoredReceipt } from "../query/record.ts";
import { outputGone } from "../os/output-gone.ts";
import { OutputClosed } from "./output.ts";

const ACTIVE_MS = 25;
const IDLE_MS = 1000;
/** How long after the last file event (or new row) the database counts as being written. */
const ACTIVE_FOR_MS = 1000;
/** Checks are at least this far apart, however many file events arrive (a busy WAL sends many). */
const MIN_GAP_MS = 5;
/** While the database cannot be read (being replaced, permissions changing), retry at this pace. */
const RETRY_MS = 500;
const BATCH = 1000;

export interface FollowOptions {
  reader: ReceiptReader;
  filter: ReceiptFilter;
  /** Rows with a rowid above this are new. */
  after: number;
  print(receipts: StoredReceipt[]): void;
  /** A problem reading, said once until reading works again. */
  warn(message: string): void;
  /** Resolves when the follower should stop (SIGINT, SIGTERM). */
  stopped: Promise<void>;
}

/** Wakes a waiting follower when a file of the database changes. */
class FileEvents {
  lastAt = 0;
  private wake: (() => void) | undefined;
  private readonly watcher: FSWatcher | undefined;

  constructor(db: string) {
    const prefix = basename(db);
    try {
      this.watcher = watch(dirname(db), (_event, name) => {
        if (typeof name !== "string" || !name.startsWith(prefix)) return;
        this.lastAt = performance.now();
        this.wake?.();
      });
      this.watcher.on("error", () => undefined);
    } catch {
      this.watcher = undefined;
    }
  }

  get watching(): boolean {
    return this.watcher !== undefined;
  }

  /** Resolves after `ms`, or earlier on a file event or interrupt(). */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    }).finally(() => {
      this.wake = undefined;
    });
  }

  /** Ends the current wait now. */
  interrupt(): void {
    this.wake?.();
  }

  close(): void {
    this.watcher?.close();
  }
}

export async function follow(o: FollowOptions): Promise<void> {
  let last = o.after;
  let stop = false;
  const events = new FileEvents(o.reader.path);
  void o.stopped.then(() => {
    stop = true;
    events.interrupt();
  });
  let failing = false;
  let activeAt = performance.now();
  try {
    while (!stop) {
      if (outputGone(1)) throw new OutputClosed();
      const checkedAt = performance.now();
      let wait: number;
      try {
        o.reader.refresh();
        const rows = o.reader.after(last, o.filter, BATCH);
        if (rows.length > 0) {
          o.print(rows);
          last = rows[rows.length - 1]!.rowid;
          activeAt = performance.now();
        }
        failing = false;
        const active = !events.watching || performance.now() - Math.max(activeAt, events.lastAt) < ACTIVE_FOR_MS;
        wait = rows.length === BATCH ? 0 : active ? ACTIVE_MS : IDLE_MS;
      } catch (err) {
        if (err instanceof OutputClosed) throw err;
        if (!failing) o.warn(`cannot read the database right now (${(err as Error).message}); retrying`);
        failing = true;
        wait = RETRY_MS;
      }
      if (wait === 0) continue;
      // A file event may cut the wait short, but not below MIN_GAP_MS after this check.
      const gap = checkedAt + MIN_GAP_MS - performance.now();
      if (gap > 0) await Bun.sleep(gap);
      if (stop || events.lastAt > checkedAt) continue; // an event during the gap: check now
      await events.wait(Math.max(0, wait - MIN_GAP_MS));
    }
  } finally {
    events.close();
  }
}
