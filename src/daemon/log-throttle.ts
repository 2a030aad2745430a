// Log lines a peer can cause (a rejected frame, a framing error, a closed
// connection) must not flood the log: a fuzzer once got 25,000 lines out of
// the daemon in 4 s. Each connection gets a few lines, then one per second,
// all peers together 20 per second; what is held back is counted and
// summarised in one `log_suppressed` line per summary interval.
import type { LogFields, Logger } from "./log.ts";

/** At most one line per interval; says how many were held back in between. */
export class EveryInterval {
  private last = -Infinity;
  private held = 0;

  constructor(private readonly intervalMs: number) {}

  /** The number held back since the last line when a line may go out now, else null (and one more is held back). */
  take(now = performance.now()): number | null {
    if (now - this.last < this.intervalMs) {
      this.held++;
      return null;
    }
    this.last = now;
    const held = this.held;
    this.held = 0;
    return held;
  }
}

/** A token bucket: `capacity` at once, refilled at `perSecond`. */
export class Bucket {
  private tokens: number;
  private refilledAt: number;

  constructor(private readonly capacity: number, private readonly perSecond: number, now = performance.now()) {
    this.tokens = capacity;
    this.refilledAt = now;
  }

  take(now = performance.now()): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

export interface PeerLogLimits {
  /** Lines per connection at once, then one per second. */
  perConnectionBurst: number;
  /** Lines per second over all connections (also the burst). */
  perSecond: number;
  /** How often held-back lines are summarised. */
  summaryMs: number;
}

export const DEFAULT_PEER_LOG_LIMITS: PeerLogLimits = { perConnectionBurst: 5, perSecond: 20, summaryMs: 10_000 };

interface ConnectionLines {
  bucket: Bucket;
  held: number;
}

export class PeerLog {
  private readonly perConnection = new WeakMap<object, ConnectionLines>();
  private readonly overall: Bucket;
  /** Lines held back since the last summary, by event. */
  private held = new Map<string, number>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly log: Logger, private readonly limits: PeerLogLimits = DEFAULT_PEER_LOG_LIMITS) {
    this.overall = new Bucket(limits.perSecond, limits.perSecond);
    this.timer = setInterval(() => this.summarise(), limits.summaryMs);
    this.timer.unref();
  }

  /** A warning about one connection (`conn` is its identity), unless that connection or all of them are over their rate. */
  warn(conn: object, event: string, fields: LogFields): void {
    this.line("warn", conn, event, fields);
  }

  /** The same for an error. */
  error(conn: object, event: string, fields: LogFields): void {
    this.line("error", conn, event, fields);
  }

  private line(level: "warn" | "error", conn: object, event: string, fields: LogFields): void {
    let lines = this.perConnection.get(conn);
    if (lines === undefined) {
      lines = { bucket: new Bucket(this.limits.perConnectionBurst, 1), held: 0 };
      this.perConnection.set(conn, lines);
    }
    if (!lines.bucket.take() || !this.overall.take()) {
      lines.held++;
      this.held.set(event, (this.held.get(event) ?? 0) + 1);
      return;
    }
    const held = lines.held;
    lines.held = 0;
    this.log[level](event, held > 0 ? { ...fields, suppressed_on_connection: held } : fields);
  }

  /** One line counting what was held back since the last one (nothing when nothing was). */
  summarise(): void {
    if (this.held.size === 0) return;
    const counts = Object.fromEntries(this.held);
    this.held = new Map();
    this.log.warn("log_suppressed", { ...counts, interval_s: this.limits.summaryMs / 1000, note: "lines over the rate limit were counted, not written; totals are in the stopped line" });
  }

  stop(): void {
    clearInterval(this.timer);
    this.summarise();
  }
}
