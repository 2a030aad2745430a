// Hands each new checkpoint to every anchor off the ingest path: one
// publish at a time per anchor, the newest checkpoint only (a later
// checkpoint covers everything an earlier one did), failures logged,
// counted and retried with exponential backoff.
import type { Logger } from "../log.ts";
import type { Anchor, AnchorCheckpoint, AnchorProofs } from "./anchor.ts";

export const RETRY_MIN_MS = 1000;
export const RETRY_MAX_MS = 60_000;

export interface AnchorStats {
  published: number;
  failures: number;
}

/** What the status file says of an anchor (src/status/status-file.ts). */
export interface AnchorState extends AnchorStats {
  name: string;
  /** Failed attempts since the last success. */
  failedAttempts: number;
  /** The last failure's error while failing, else null. */
  lastError: string | null;
  lastPublishedSize: number | null;
  lastPublishedAt: string | null;
}

interface Slot {
  anchor: Anchor;
  pending: AnchorCheckpoint | null;
  running: boolean;
  timer: ReturnType<typeof setTimeout> | null;
  retryMs: number;
  failedAttempts: number;
  lastError: string | null;
  lastPublished: { size: number; at: string } | null;
  stats: AnchorStats;
}

export interface AnchorRunnerOptions {
  log: Logger;
  /** Consistency proofs up to `size`, from the database. */
  proofsFor(size: number): AnchorProofs;
  /** Cosignature lines an anchor returned for the checkpoint of `size`. */
  onCosignatures(size: number, anchor: string, lines: string[]): void;
  /** After each publication and each failure (the status file shows anchors' states). */
  onChange?(): void;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class AnchorRunner {
  private readonly slots: Slot[];
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private idleWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(anchors: readonly Anchor[], private readonly opts: AnchorRunnerOptions) {
    this.retryMinMs = opts.retryMinMs ?? RETRY_MIN_MS;
    this.retryMaxMs = opts.retryMaxMs ?? RETRY_MAX_MS;
    this.slots = anchors.map((anchor) => ({
      anchor, pending: null, running: false, timer: null, retryMs: this.retryMinMs, failedAttempts: 0, lastError: null, lastPublished: null,
      stats: { published: 0, failures: 0 },
    }));
  }

  get names(): string[] {
    return this.slots.map((s) => s.anchor.name);
  }

  stats(): Record<string, AnchorStats> {
    return Object.fromEntries(this.slots.map((s) => [s.anchor.name, { ...s.stats }]));
  }

  states(): AnchorState[] {
    return this.slots.map((s) => ({
      name: s.anchor.name, ...s.stats, failedAttempts: s.failedAttempts, lastError: s.lastError,
      lastPublishedSize: s.lastPublished?.size ?? null, lastPublishedAt: s.lastPublished?.at ?? null,
    }));
  }

  /** Queues the checkpoint for every anchor; never waits. */
  submit(checkpoint: AnchorCheckpoint): void {
    if (this.stopped) return;
    for (const slot of this.slots) {
      if (slot.pending === null || slot.pending.size <= checkpoint.size) slot.pending = checkpoint;
      // A failing anchor keeps its backoff: a new checkpoint does not hammer it.
      if (!slot.running && slot.timer === null) void this.run(slot);
    }
  }

  private async run(slot: Slot): Promise<void> {
    const checkpoint = slot.pending;
    if (checkpoint === null || this.stopped) {
      this.wakeIfIdle();
      return;
    }
    slot.running = true;
    try {
      const result = await slot.anchor.publish(checkpoint, this.opts.proofsFor(checkpoint.size));
      slot.stats.published++;
      if (slot.pending === checkpoint) slot.pending = null;
      if (slot.failedAttempts > 0) {
        this.opts.log.info("anchor_recovered", { anchor: slot.anchor.name, size: checkpoint.size, failed_attempts: slot.failedAttempts });
      }
      slot.failedAttempts = 0;
      slot.lastError = null;
      slot.lastPublished = { size: checkpoint.size, at: new Date().toISOString() };
      slot.retryMs = this.retryMinMs;
      const lines = result.cosignatures ?? [];
      if (lines.length > 0) this.opts.onCosignatures(checkpoint.size, slot.anchor.name, lines);
    } catch (err) {
      slot.stats.failures++;
      slot.failedAttempts++;
      slot.lastError = (err as Error).message;
      this.opts.log.error("anchor_failed", {
        anchor: slot.anchor.name, size: checkpoint.size, error: (err as Error).message, failed_attempts: slot.failedAttempts, retry_ms: slot.retryMs,
      });
      slot.timer = setTimeout(() => {
        slot.timer = null;
        void this.run(slot);
      }, slot.retryMs);
      slot.timer.unref?.();
      slot.retryMs = Math.min(this.retryMaxMs, slot.retryMs * 2);
      return;
    } finally {
      slot.running = false;
      this.opts.onChange?.();
    }
    if (slot.pending !== null) void this.run(slot);
    else this.wakeIfIdle();
  }

  private idle(): boolean {
    return this.slots.every((s) => !s.running && (s.pending === null || s.timer !== null));
  }

  private wakeIfIdle(): void {
    if (!this.idle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Resolves true once every anchor has published its newest checkpoint or is
   * waiting to retry a failure (false after `timeoutMs`): at shutdown, so that
   * the final checkpoint leaves the machine when the anchors can take it.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.idle()) return this.slots.every((s) => s.pending === null);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.slots.every((s) => s.pending === null);
  }

  /** No more publishing: pending retries are dropped (logged by the caller from stats). */
  stop(): void {
    this.stopped = true;
    for (const s of this.slots) {
      if (s.timer !== null) clearTimeout(s.timer);
      s.timer = null;
    }
  }

  /** Anchors whose newest checkpoint is not published. */
  unpublished(): Array<{ anchor: string; size: number }> {
    return this.slots.filter((s) => s.pending !== null).map((s) => ({ anchor: s.anchor.name, size: s.pending!.size }));
  }
}
