// Bun collects garbage by its own heuristics, which let a relaying process
// grow to several times its live memory: every read is a fresh buffer, every
// line a parsed copy, every call two frames. A full collection every few MiB
// relayed, and every 100 ms of chatter, keeps the proxy's RSS flat (more often
// costs relay throughput: each collection takes a few milliseconds).

const EVERY_BYTES = 8 * 1024 * 1024;
const EVERY_MS = 100;

export class GcPacer {
  private bytes = 0;
  private active = false;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor() {
    this.timer = setInterval(() => {
      if (!this.active) return;
      this.active = false;
      this.collect();
    }, EVERY_MS);
    this.timer.unref();
  }

  /** `n` bytes went through. */
  add(n: number): void {
    this.active = true;
    this.bytes += n;
    if (this.bytes >= EVERY_BYTES) this.collect();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private collect(): void {
    this.bytes = 0;
    Bun.gc(true);
  }
}
