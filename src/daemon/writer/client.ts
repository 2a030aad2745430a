// The receiver's side of the chain writer: queues validated events and keeps
// exactly one batch in flight, so each transaction takes everything that
// arrived while the previous one committed (group commit). Events stay owned
// here until committed; a failed commit puts them back and retries them in
// smaller batches, down to one event, so that a nearly full disk still takes
// what fits.
import type { ChainEvent } from "../pipeline/chain-writer.ts";
import { workerPath } from "../../runtime/worker-path.ts";
import { WORKERS } from "../../runtime/workers.ts";
import type { Logger } from "../log.ts";
import type { FromWriter, IssuedCheckpoint, TlogReady, ToWriter, WriterInit } from "./messages.ts";

export const MAX_BATCH_EVENTS = 2048;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2000;

export interface WriterStats {
  receipts: number;
  events: number;
  rejected: number;
  commits: number;
  commitFailures: number;
}

export class WriterClient {
  private readonly worker: Worker;
  private queue: ChainEvent[] = [];
  private inFlight: ChainEvent[] | null = null;
  /** Highest event number submitted: events are numbered in submission order. */
  private highestNo = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryMs = RETRY_MIN_MS;
  /** Largest batch to hand over: halved by each failed commit, doubled back by each success. */
  private batchLimit = MAX_BATCH_EVENTS;
  /** Failed commits since the last successful one. */
  private failedAttempts = 0;
  private lastFailure = "";
  /** Set by close(): nothing more is handed to the thread, which is closing the database. */
  private closing = false;
  /** Set once the thread is told to close the database: cosignatures can no longer be stored. */
  private dbClosing = false;
  private idleWaiters: Array<() => void> = [];
  private closeWaiter: ((msg: FromWriter) => void) | null = null;
  /** Every event numbered <= this is committed (or was rejected and logged). */
  committedThrough = 0;
  readonly stats: WriterStats = { receipts: 0, events: 0, rejected: 0, commits: 0, commitFailures: 0 };
  rootChainId = "";
  resumedFrom = 0;
  fingerprint = "";
  /** The transparency log as found at start; null when turned off. */
  tlog: TlogReady | null = null;
  /** Told of every checkpoint the writer thread commits. */
  onCheckpoint: ((c: IssuedCheckpoint) => void) | null = null;
  /** Checkpoints issued since start. */
  checkpoints = 0;
  /** The newest checkpoint issued since start. */
  latestCheckpoint: IssuedCheckpoint | null = null;

  private constructor(private readonly log: Logger, private readonly onCommitted: (throughNo: number) => void) {
    this.worker = new Worker(workerPath(WORKERS.writer));
  }

  /** Starts the writer thread and waits until it has opened the database and resolved the chain. */
  static async start(init: Omit<WriterInit, "kind">, log: Logger, onCommitted: (throughNo: number) => void): Promise<WriterClient> {
    const client = new WriterClient(log, onCommitted);
    const first = await new Promise<FromWriter>((resolve, reject) => {
      client.worker.onmessage = (e: MessageEvent<FromWriter>) => resolve(e.data);
      client.worker.onerror = (e) => reject(new Error(`writer thread failed to start: ${e.message}`));
      client.post({ kind: "init", ...init });
    });
    if (first.kind !== "ready") {
      client.worker.terminate();
      throw new Error(first.kind === "init_failed" ? first.message : `writer thread sent ${first.kind} at start`);
    }
    client.rootChainId = first.rootChainId;
    client.resumedFrom = first.resumedFrom;
    client.fingerprint = first.fingerprint;
    client.tlog = first.tlog;
    if (first.keyCreated) log.info("key_created", { key: init.keyPath, public_key: init.publicKeyPath, fingerprint: first.fingerprint });
    if (first.publicKeyPublished) log.info("public_key_published", { public_key: init.publicKeyPath, fingerprint: first.fingerprint });
    client.worker.onmessage = (e: MessageEvent<FromWriter>) => client.handle(e.data);
    client.worker.onerror = (e) => log.error("writer_thread_error", { error: e.message });
    return client;
  }

  get queued(): number {
    return this.queue.length + (this.inFlight?.length ?? 0);
  }

  /** The error of the last failed commit, if the last commit failed. */
  get failing(): string | undefined {
    return this.failedAttempts > 0 ? this.lastFailure : undefined;
  }

  submit(event: ChainEvent): void {
    this.highestNo = Math.max(this.highestNo, event.no);
    this.queue.push(event);
    this.pump();
  }

  private post(msg: ToWriter): void {
    this.worker.postMessage(msg);
  }

  private pump(): void {
    while (!this.closing && this.inFlight === null && this.retryTimer === null && this.queue.length > 0) {
      const batch = this.queue.length <= this.batchLimit ? this.queue : this.queue.splice(0, this.batchLimit);
      if (batch === this.queue) this.queue = [];
      const sendable = this.handOver(batch);
      if (sendable.length > 0) {
        this.inFlight = sendable;
        return;
      }
      // Every event of the batch was refused: they are done, nothing is in flight.
      this.acknowledge();
    }
  }

  /**
   * Every event numbered below the first one still held here is committed or
   * was rejected (the queue and the batch in flight are in event order).
   */
  private doneThrough(): number {
    const first = this.inFlight?.[0] ?? this.queue[0];
    return first === undefined ? this.highestNo : first.no - 1;
  }

  /**
   * Posts a batch to the writer thread. An event that cannot be copied to the
   * thread (validation should have refused it) is rejected alone, so one bad
   * event can never block the queue.
   */
  private handOver(batch: ChainEvent[]): ChainEvent[] {
    try {
      this.post({ kind: "batch", events: batch });
      return batch;
    } catch {
      const sendable = batch.filter((event) => {
        try {
          structuredClone(event);
          return true;
        } catch (err) {
          this.stats.rejected++;
          this.log.error("event_rejected", { event: event.no, error: `cannot hand the event to the writer thread: ${(err as Error).message}` });
          return false;
        }
      });
      if (sendable.length > 0) this.post({ kind: "batch", events: sendable });
      return sendable;
    }
  }

  private acknowledge(): void {
    const throughNo = this.doneThrough();
    this.committedThrough = throughNo;
    this.onCommitted(throughNo);
    if (this.queued === 0) this.wakeIdle();
  }

  private handle(msg: FromWriter): void {
    switch (msg.kind) {
      case "committed":
        this.inFlight = null;
        this.retryMs = RETRY_MIN_MS;
        this.stats.commits++;
        this.stats.events += msg.events;
        this.stats.receipts += msg.receipts;
        this.stats.rejected += msg.rejected.length;
        for (const r of msg.rejected) this.log.error("event_rejected", { event: r.no, error: r.reason });
        if (this.failedAttempts > 0) {
          this.log.info("commit_recovered", {
            events: msg.events, receipts: msg.receipts, failed_attempts: this.failedAttempts, queued: this.queued, batch_limit: this.batchLimit,
          });
          this.failedAttempts = 0;
        }
        this.batchLimit = Math.min(MAX_BATCH_EVENTS, this.batchLimit * 2);
        this.acknowledge();
        this.pump();
        return;
      case "commit_failed": {
        const failed = this.inFlight?.length ?? 0;
        this.stats.commitFailures++;
        this.failedAttempts++;
        this.lastFailure = msg.message;
        // A smaller transaction may fit where this one did not (a nearly full disk): halve, down to one event.
        this.batchLimit = Math.max(1, Math.min(this.batchLimit, Math.ceil(failed / 2)));
        this.log.error("commit_failed", { error: msg.message, events: failed, queued: this.queued, retry_ms: this.retryMs, next_batch: this.batchLimit });
        this.queue = [...(this.inFlight ?? []), ...this.queue];
        this.inFlight = null;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.pump();
        }, this.retryMs);
        this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
        return;
      }
      case "terminated":
      case "closed":
      case "close_failed":
        this.closeWaiter?.(msg);
        return;
      case "checkpoint":
        this.checkpoints++;
        if (this.latestCheckpoint === null || msg.checkpoint.size >= this.latestCheckpoint.size) this.latestCheckpoint = msg.checkpoint;
        this.onCheckpoint?.(msg.checkpoint);
        return;
      case "checkpoint_failed":
        this.log.error("checkpoint_failed", { error: msg.message });
        return;
      case "cosignatures_stored":
        if (msg.added > 0) this.log.info("cosignatures_stored", { size: msg.size, anchor: msg.anchor, added: msg.added });
        return;
      case "cosignatures_failed":
        this.log.error("cosignatures_not_stored", { size: msg.size, anchor: msg.anchor, error: msg.message });
        return;
      default:
        this.log.error("writer_protocol_error", { kind: msg.kind });
    }
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Stores cosignature lines an anchor returned for the checkpoint of `size` (the writer thread owns the database). */
  storeCosignatures(size: number, anchor: string, lines: string[]): void {
    if (this.dbClosing) {
      this.log.warn("cosignatures_not_stored", { size, anchor, note: "they arrived after the database was closed; the next start's checkpoint is submitted again" });
      return;
    }
    this.post({ kind: "cosignatures", size, anchor, lines });
  }

  /** Resolves when everything submitted so far is committed, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.queued === 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private async closeStep(msg: ToWriter, timeoutMs: number): Promise<FromWriter | { kind: "timeout" }> {
    return new Promise<FromWriter | { kind: "timeout" }>((resolve) => {
      const timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs);
      this.closeWaiter = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      this.post(msg);
    });
  }

  /**
   * Writes terminators and the final checkpoint, runs `beforeClose` (the
   * anchors' last round, whose cosignatures are still stored), then closes
   * the database and stops the thread. `timeoutMs` bounds each step.
   */
  async close(timeoutMs: number, beforeClose: () => Promise<void> = async () => {}): Promise<FromWriter | { kind: "timeout" }> {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.closing = true;
    let result = await this.closeStep({ kind: "shutdown" }, timeoutMs);
    if (result.kind === "terminated") {
      await beforeClose();
      this.dbClosing = true;
      result = await this.closeStep({ kind: "close" }, timeoutMs);
    }
    this.dbClosing = true;
    this.worker.terminate();
    return result;
  }
}
