// Refused connections are logged, but a peer that retries in a loop must not
// flood the log: at most one line per uid per interval, with a count of the rest.

const INTERVAL_MS = 10_000;

export class RefusalLog {
  private readonly seen = new Map<number, { at: number; suppressed: number }>();

  constructor(private readonly intervalMs = INTERVAL_MS) {}

  /** Returns how many refusals of `uid` went unlogged since its last line, or null to stay quiet now. */
  shouldLog(uid: number, now = performance.now()): number | null {
    const entry = this.seen.get(uid);
    if (entry !== undefined && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return null;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.seen.set(uid, { at: now, suppressed: 0 });
    return suppressed;
  }
}
