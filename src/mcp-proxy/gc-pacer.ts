// Bun collects garbage by its own heuristics, which let a relaying process
// grow to several times its live memory: every read is a fresh buffer, and
// the memory of dead ones goes back to the system only when a full collection
// runs with the allocator's cleanup, which only `Bun.gc(true)` does (a
// collection alone, bun:jsc's fullGC or edenGC, frees the buffers but leaves
// RSS where it was). Each such collection stalls the relay for a millisecond
// or more, so the pacer runs one only when RSS reached a limit, checked every
// MiB relayed and every 100 ms of traffic: a proxy under its limit (small
// calls, or large responses with memory to spare) never collects.

/** Collect once RSS reaches this (a collection leaves the proxy at 40-48 MB)... */
const LIMIT_BYTES = 48 * 1024 * 1024;
/** ...or this much more than the last collection left, if that is higher (never collect over and over). */
const ROOM_BYTES = 4 * 1024 * 1024;
const CHECK_BYTES = 1024 * 1024;
const CHECK_MS = 100;

export class GcPacer {
  private bytes = 0;
  private active = false;
  private limit = LIMIT_BYTES;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor() {
    this.timer = setInterval(() => {
      if (!this.active) return;
      this.active = false;
      this.check();
    }, CHECK_MS);
    this.timer.unref();
  }

  /** `n` bytes went through. */
  add(n: number): void {
    this.active = true;
    this.bytes += n;
    if (this.bytes >= CHECK_BYTES) this.check();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    this.bytes = 0;
    if (process.memoryUsage.rss() < this.limit) return;
    Bun.gc(true);
    this.limit = Math.max(LIMIT_BYTES, process.memoryUsage.rss() + ROOM_BYTES);
  }
}
