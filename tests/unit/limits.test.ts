// The pieces behind the daemon's resource limits (issue 13 items 5, 6, 10),
// on their own: which partial frames go past the memory cap, how log lines
// are rate-limited, errno names, sizes in the configuration, and the
// attestation's answer when the daemon is out of descriptors (real socket,
// real kernel, in a child process whose descriptor limit is exhausted).
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { PartialBudget } from "../../src/daemon/partial-budget.ts";
import { Bucket, EveryInterval, PeerLog } from "../../src/daemon/log-throttle.ts";
import { createLogger, MAX_VALUE_CHARS } from "../../src/daemon/log.ts";
import { describeErrno } from "../../src/os/errno.ts";
import { defaultMaxBufferedBytes, parseByteSize, parseCount } from "../../src/daemon/limits.ts";
import { connectionLimit } from "../../src/daemon/descriptor-guard.ts";

const MiB = 1024 * 1024;

describe("partial frame budget", () => {
  test("under the limit nothing is closed; past it the largest go first, the newest among equals", () => {
    const b = new PartialBudget<string>(3 * MiB);
    expect(b.set("a", MiB)).toEqual([]);
    expect(b.set("b", 512 * 1024)).toEqual([]);
    expect(b.set("c", MiB)).toEqual([]);
    expect(b.total).toBe(2.5 * MiB);
    // d tips it over: a, c and d hold 1 MiB each; d is the newest of them.
    expect(b.set("d", MiB)).toEqual(["d"]);
    b.delete("d");
    expect(b.total).toBe(2.5 * MiB);
    // A small newcomer over the limit closes the largest (newest of a and c), not itself.
    expect(b.set("e", 600 * 1024)).toEqual(["c"]);
  });

  test("a key that completes its frame gives its bytes back", () => {
    const b = new PartialBudget<string>(MiB);
    b.set("a", MiB);
    b.set("a", 0);
    expect(b.total).toBe(0);
    expect(b.set("b", MiB)).toEqual([]);
  });
});

describe("log rate limits", () => {
  test("EveryInterval lets one line through per interval and counts the rest", () => {
    const e = new EveryInterval(1000);
    expect(e.take(0)).toBe(0);
    expect(e.take(10)).toBeNull();
    expect(e.take(999)).toBeNull();
    expect(e.take(1000)).toBe(2);
  });

  test("Bucket: a burst, then the refill rate", () => {
    const b = new Bucket(3, 1, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(500)).toBe(false);
    expect(b.take(1000)).toBe(true);
  });

  test("PeerLog: a few lines per connection, a global cap, and a summary that accounts for every line held back", () => {
    const lines: string[] = [];
    const peerLog = new PeerLog(createLogger("json", (l) => lines.push(l)), { perConnectionBurst: 3, perSecond: 5, summaryMs: 60_000 });
    const conns = Array.from({ length: 10 }, () => ({}));
    for (let i = 0; i < 100; i++) for (const c of conns) peerLog.warn(c, "frame_rejected", { i });
    peerLog.stop();
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const written = parsed.filter((l) => l.event === "frame_rejected");
    // The overall burst (5) runs out first: the first line of each of the first five connections.
    expect(written.map((l) => l.i)).toEqual([0, 0, 0, 0, 0]);
    // One connection alone: its burst of 3, then it is held back.
    const one: string[] = [];
    const single = new PeerLog(createLogger("json", (l) => one.push(l)), { perConnectionBurst: 3, perSecond: 100, summaryMs: 60_000 });
    const conn = {};
    for (let i = 0; i < 50; i++) single.warn(conn, "frame_rejected", { i });
    single.stop();
    expect(one.map((l) => JSON.parse(l) as Record<string, unknown>).map((l) => [l.event, l.i ?? l.frame_rejected])).toEqual([
      ["frame_rejected", 0], ["frame_rejected", 1], ["frame_rejected", 2], ["log_suppressed", 47],
    ]);
    const summary = parsed.find((l) => l.event === "log_suppressed")!;
    expect(summary.frame_rejected).toBe(1000 - 5);
  });

  test("a log value is cut at MAX_VALUE_CHARS, saying how much was left out", () => {
    const lines: string[] = [];
    createLogger("json", (l) => lines.push(l)).info("stopped", { terminated: "x".repeat(50_000) });
    expect(lines[0]!.length).toBeLessThan(MAX_VALUE_CHARS + 200);
    expect(lines[0]).toContain(`(${50_000 - MAX_VALUE_CHARS} more characters)`);
  });
});

describe("configuration values", () => {
  test("sizes and counts", () => {
    expect(parseByteSize("64MiB")).toBe(64 * MiB);
    expect(parseByteSize(" 2 GiB ")).toBe(2048 * MiB);
    expect(parseByteSize(4096)).toBe(4096);
    expect(parseByteSize("64MB")).toBeUndefined();
    expect(parseByteSize(1.5)).toBeUndefined();
    expect(parseCount("1000")).toBe(1000);
    expect(parseCount("-1")).toBeUndefined();
  });

  test("the default memory cap is 1/64 of the machine, between 16 and 64 MiB", () => {
    expect(defaultMaxBufferedBytes(512 * MiB)).toBe(16 * MiB);
    expect(defaultMaxBufferedBytes(2048 * MiB)).toBe(32 * MiB);
    expect(defaultMaxBufferedBytes(64 * 1024 * MiB)).toBe(64 * MiB);
  });

  test("connections allowed below the descriptor limit keep a reserve", () => {
    expect(connectionLimit(undefined, 20)).toBe(Number.POSITIVE_INFINITY);
    expect(connectionLimit(256, 15)).toBe(256 - 15 - 32);
    expect(connectionLimit(64, 14)).toBe(64 - 14 - 8);
    expect(connectionLimit(20, 30)).toBe(1);
  });
});

describe("errno names", () => {
  test("24 is EMFILE, 23 ENFILE, 3 ESRCH; unknown numbers stay numbers", () => {
    expect(describeErrno(24)).toBe("EMFILE (errno 24: too many open files in this process)");
    expect(describeErrno(23)).toBe("ENFILE (errno 23: too many open files in the system)");
    expect(describeErrno(3)).toBe("ESRCH (errno 3: no such process)");
    expect(describeErrno(100_000)).toBe("errno 100000");
  });
});

describe.skipIf(process.platform !== "linux")("attestation out of descriptors", () => {
  test("SO_PEERPIDFD failing with EMFILE is reported as such (not as a peer that is gone) and flags outOfDescriptors", () => {
    const r = spawnSync(process.execPath, [join(import.meta.dir, "fixtures", "peercred-emfile.ts")], { encoding: "utf8", timeout: 20_000 });
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as { supported: boolean; capture?: { exeNote?: string; outOfDescriptors?: boolean; credential: { pid: number } } };
    if (!out.supported) return; // kernel without SO_PEERPIDFD (< 6.5): nothing to exhaust
    expect(out.capture!.outOfDescriptors).toBe(true);
    expect(out.capture!.exeNote).toContain("EMFILE (errno 24: too many open files in this process)");
    expect(out.capture!.exeNote).not.toContain("already gone");
    expect(out.capture!.credential.pid).toBeGreaterThan(0);
  });
});
