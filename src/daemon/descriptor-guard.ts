// Keeps the daemon clear of its descriptor limit. Every connection holds one
// descriptor; at the limit accept() fails with EMFILE and the event loop used
// to spin on the listening socket at full CPU, silently. So the daemon stops
// accepting a little before the limit (and whenever a descriptor could not be
// had: EMFILE from attestation, or a failed probe for ENFILE, which other
// processes cause), logs it at most once a minute, keeps serving the open
// connections, and accepts again once descriptors are free.
import type { Logger } from "./log.ts";
import { EveryInterval } from "./log-throttle.ts";
import { descriptorAvailable } from "../os/fd-limit.ts";

export interface Pausable {
  readonly accepting: boolean;
  pause(): void;
  /** Throws when accepting cannot start again yet. */
  resume(): void;
}

const PROBE_MS = 1000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;
const LOG_INTERVAL_MS = 60_000;

/** Connections the daemon may hold: the limit less what it had open before listening, less room for the database, attestation, logs. */
export function connectionLimit(descriptorLimit: number | undefined, inUseAtStart: number | undefined): number {
  if (descriptorLimit === undefined) return Number.POSITIVE_INFINITY;
  const reserve = Math.min(32, Math.max(8, Math.floor(descriptorLimit / 8)));
  return Math.max(1, descriptorLimit - (inUseAtStart ?? 0) - reserve);
}

export class DescriptorGuard {
  /** Why accepting is paused, or null while accepting. */
  private pausedFor: "connection_limit" | "out_of_descriptors" | null = null;
  private pausedAt = 0;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly probeTimer: ReturnType<typeof setInterval>;
  private readonly pauseLog = new EveryInterval(LOG_INTERVAL_MS);
  private readonly resumeLog = new EveryInterval(LOG_INTERVAL_MS);
  private stopped = false;
  /** Accepting resumes once open connections are at most this. */
  private readonly lowWater: number;
  pauses = 0;

  constructor(
    private readonly listener: Pausable,
    private readonly log: Logger,
    /** Connections (descriptors) the daemon holds now. */
    private readonly openConnections: () => number,
    readonly maxConnections: number,
    private readonly descriptorLimit: number | undefined,
  ) {
    this.lowWater = Math.floor(maxConnections * 0.9);
    // ENFILE (the system's table is full) and descriptors used elsewhere do not show in the count: look now and then.
    this.probeTimer = setInterval(() => {
      if (this.listener.accepting && !descriptorAvailable()) this.outOfDescriptors();
    }, PROBE_MS);
    this.probeTimer.unref();
  }

  /** After each accepted connection. */
  opened(): void {
    if (this.listener.accepting && this.openConnections() >= this.maxConnections) this.pause("connection_limit");
  }

  /** After each closed connection. */
  closed(): void {
    if (this.pausedFor === "connection_limit" && this.openConnections() <= this.lowWater) this.tryResume();
  }

  /** A descriptor could not be had (EMFILE/ENFILE). */
  outOfDescriptors(): void {
    if (this.pausedFor !== "out_of_descriptors") this.pause("out_of_descriptors");
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.probeTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
  }

  private pause(reason: "connection_limit" | "out_of_descriptors"): void {
    if (this.stopped) return;
    this.listener.pause();
    if (this.pausedFor === null) {
      this.pausedAt = performance.now();
      this.pauses++;
    }
    this.pausedFor = reason;
    const held = this.pauseLog.take();
    if (held !== null) {
      this.log.warn("accept_paused", {
        reason, open_connections: this.openConnections(), max_connections: Number.isFinite(this.maxConnections) ? this.maxConnections : undefined,
        descriptor_limit: this.descriptorLimit, pauses_not_logged: held > 0 ? held : undefined,
        note: "new connections are refused until descriptors are free; open connections are still served",
        fix: "raise the descriptor limit (LimitNOFILE= in the systemd unit, ulimit -n), or find the peer holding many connections",
      });
    }
    if (reason === "out_of_descriptors") this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.tryResume();
    }, this.retryMs);
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
  }

  private tryResume(): void {
    if (this.stopped || this.pausedFor === null) return;
    if (this.openConnections() >= this.maxConnections) {
      this.pausedFor = "connection_limit";
      return;
    }
    try {
      if (!descriptorAvailable()) throw new Error("no descriptor available");
      this.listener.resume();
    } catch {
      this.pausedFor = "out_of_descriptors";
      this.scheduleRetry();
      return;
    }
    const pausedMs = Math.round(performance.now() - this.pausedAt);
    this.pausedFor = null;
    this.retryMs = RETRY_MIN_MS;
    const held = this.resumeLog.take();
    if (held !== null) this.log.info("accept_resumed", { open_connections: this.openConnections(), paused_ms: pausedMs, resumes_not_logged: held > 0 ? held : undefined });
  }
}
