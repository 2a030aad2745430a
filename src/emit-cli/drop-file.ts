// A per-session count of undelivered events for emitters that live for one
// event (a hook is a fresh process per tool call). Concurrent hooks of one
// session (parallel tool calls) must neither lose nor double-report a drop,
// so the count is claimed and restored with atomic rename/link, never with an
// unguarded read-modify-write.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const DIR_NAME = "emitter-drops";
/** Attempts before add() gives up under extreme contention (each attempt merges a competitor's count). */
const MAX_ATTEMPTS = 64;

function isCode(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

export class DropFile {
  constructor(readonly path: string) {}

  /** The counter file of one session of one channel, under `<data dir>/emitter-drops/` (0700 dir, 0600 file). */
  static forSession(dataDir: string, channel: string, sessionId: string): DropFile {
    // Hashed: a session id is not a safe file name.
    const id = new Bun.CryptoHasher("sha256").update(sessionId).digest("hex").slice(0, 32);
    return new DropFile(join(dataDir, DIR_NAME, `${channel}-${id}.count`));
  }

  /**
   * The counter of events lost before their session was known (a payload that
   * is not JSON): every run of that channel's hook also takes it, so the next
   * delivered event of any session reports them.
   */
  static forUnknownSession(dataDir: string, channel: string): DropFile {
    return new DropFile(join(dataDir, DIR_NAME, `${channel}-unknown-session.count`));
  }

  /**
   * Drops a long-lived emitter of `channel` (mcp-proxy) could not report
   * before it exited: the next run of that channel reports them, whatever its
   * session.
   */
  static carriedOver(dataDir: string, channel: string): DropFile {
    return new DropFile(join(dataDir, DIR_NAME, `${channel}-carried-over.count`));
  }

  private scratch(kind: string): string {
    return `${this.path}.${process.pid}.${Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(6))).toString("hex")}.${kind}`;
  }

  /** Claims and clears the stored count (0 when none). Whoever claims it must report it or add() it back. */
  take(): number {
    const claim = this.scratch("claim");
    try {
      renameSync(this.path, claim);
    } catch (err) {
      if (isCode(err, "ENOENT")) return 0;
      throw err;
    }
    try {
      const n = Number.parseInt(readFileSync(claim, "utf8"), 10);
      return Number.isSafeInteger(n) && n > 0 ? n : 0;
    } finally {
      unlinkSync(claim);
    }
  }

  /** Adds `count` drops, merging with any count another process stored meanwhile. */
  add(count: number): void {
    if (count <= 0) return;
    // The data dir as the daemon would make it (0750); the counters themselves stay private (0700).
    mkdirSync(dirname(dirname(this.path)), { recursive: true, mode: 0o750 });
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    let total = count;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const temp = this.scratch("new");
      writeFileSync(temp, `${total}\n`, { mode: 0o600, flag: "wx" });
      try {
        // link() publishes the complete file atomically and fails if a count is already there.
        linkSync(temp, this.path);
        return;
      } catch (err) {
        if (!isCode(err, "EEXIST")) throw err;
        total += this.take();
      } finally {
        unlinkSync(temp);
      }
    }
    throw new Error(`could not store the drop count in ${this.path}: too much contention`);
  }

  /** The stored count without claiming it (for display and tests). */
  peek(): number {
    try {
      const n = Number.parseInt(readFileSync(this.path, "utf8"), 10);
      return Number.isSafeInteger(n) && n > 0 ? n : 0;
    } catch (err) {
      if (isCode(err, "ENOENT")) return 0;
      throw err;
    }
  }
}
