// `tail -f`: every receipt committed after the start, as it is committed.
//
// A timer, not a busy loop: every POLL_MS one indexed query for rows past the
// last rowid printed (one B-tree seek when nothing is new), two stat calls
// (has a writer appeared, left, or replaced its WAL? then reopen) and one
// poll(2) on stdout (has its reader gone?). The connection is read-only and
// never blocks the writer; a daemon restart, a chain advance (X -> X-2: new
// rows, same table) and WAL checkpoints are all just "more rows" to it.
import type { ReceiptFilter } from "../query/filter.ts";
import type { ReceiptReader } from "../query/reader.ts";
import type { StoredReceipt } from "../query/record.ts";
import { outputGone } from "../os/output-gone.ts";
import { OutputClosed } from "./output.ts";

export const POLL_MS = 25;
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

export async function follow(o: FollowOptions): Promise<void> {
  let last = o.after;
  let stop = false;
  void o.stopped.then(() => {
    stop = true;
  });
  let failing = false;
  while (!stop) {
    if (outputGone(1)) throw new OutputClosed();
    let wait = POLL_MS;
    try {
      o.reader.refresh();
      const rows = o.reader.after(last, o.filter, BATCH);
      if (rows.length > 0) {
        o.print(rows);
        last = rows[rows.length - 1]!.rowid;
        if (rows.length === BATCH) wait = 0; // catching up
      }
      failing = false;
    } catch (err) {
      if (err instanceof OutputClosed) throw err;
      if (!failing) o.warn(`cannot read the database right now (${(err as Error).message}); retrying`);
      failing = true;
      wait = RETRY_MS;
    }
    if (wait > 0) await Promise.race([Bun.sleep(wait), o.stopped]);
  }
}
