// Shutdown and restart of the compiled daemon: SIGTERM writes the terminator
// last and exits 0, a restart continues on <id>-2; SIGKILL under load loses
// no committed receipt and a restart resumes without gap or duplicate.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import type { DaemonHandle } from "../helpers/daemon.ts";
import {
  chainProblems, daemonTracker, expectedHash, countReceipts, readReceipts, realExe, runSender, sendAndConfirm, spawnSender, tempDir, validFrame, verify, waitFor,
  type Row, type Runtime,
} from "./support.ts";

setDefaultTimeout(30_000);

const daemons = daemonTracker();
const daemon = (opts: { dir?: string; args?: string[] } = {}): Promise<DaemonHandle> => daemons.start(opts);
afterAll(() => daemons.stopAll());

function started(d: DaemonHandle): Record<string, unknown> {
  return d.logs().find((l) => l.event === "started")!;
}

function expectTerminator(row: Row, chainId: string, sequence: number): void {
  const r = row.receipt;
  expect(r.issuer).toEqual({ id: "did:agent-receipts-daemon:local", type: "AgentReceiptsDaemon" });
  const s = r.credentialSubject;
  expect(s.principal).toEqual({ id: "did:user:unknown" });
  expect(s.action.type).toBe("agent_receipts.chain_interrupted");
  expect(s.action.tool_name).toBe("chain_interrupted");
  expect(s.action.risk_level).toBe("low");
  expect("peer_credential" in s.action).toBe(false);
  expect(s.outcome).toEqual({ status: "success" });
  expect(s.chain).toMatchObject({ chain_id: chainId, sequence, terminal: true, status: "interrupted" });
}

/** The receipts of `session` must be exactly its frames 0..k-1, in order (nothing lost in the middle, nothing twice). */
function expectPrefix(rows: Row[], session: string): number {
  const mine = rows.filter((r) => r.receipt.issuer.session_id === session).map((r) => r.receipt.credentialSubject.action.parameters_hash);
  expect(mine).toEqual(mine.map((_, i) => expectedHash({ session, i })));
  return mine.length;
}

describe("SIGTERM", () => {
  test("terminator last, exit 0, socket removed, verify says interrupted; restarts continue on X-2 then X-3", async () => {
    const dir = tempDir("ar-sigterm-");
    const d1 = await daemon({ dir, args: ["--chain-id", "X"] });
    await runSender("node", d1.socket, sendAndConfirm([0, 1, 2].map((i) => validFrame("term", i))));
    const t0 = performance.now();
    expect(await d1.stop("SIGTERM")).toBe(0);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(existsSync(d1.socket)).toBe(false);
    expect(d1.logs().find((l) => l.event === "stopped")).toMatchObject({ events: 3, terminated: "X" });

    const x = readReceipts(d1.db, "X");
    expect(x).toHaveLength(4);
    expect(chainProblems(x)).toEqual([]);
    expectTerminator(x[3]!, "X", 4);
    let v = verify(d1.db, d1.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains).toEqual([{ chain_id: "X", valid: true, count: 4, status: "interrupted", retries: 0 }]);

    const d2 = await daemon({ dir, args: ["--chain-id", "X"] });
    expect(started(d2)).toMatchObject({ chain_id: "X-2", resumed_at_sequence: 0 });
    await runSender("bun", d2.socket, sendAndConfirm([validFrame("term-2", 0)]));
    const x2 = readReceipts(d2.db, "X-2");
    expect(x2).toHaveLength(1);
    expect(x2[0]!.receipt.credentialSubject.chain).toEqual({ chain_id: "X-2", sequence: 1, previous_receipt_hash: null });
    expect(await d2.stop("SIGTERM")).toBe(0);
    // Nothing was appended to the terminated chain.
    expect(readReceipts(d2.db, "X")).toHaveLength(4);

    const d3 = await daemon({ dir, args: ["--chain-id", "X"] });
    expect(started(d3)).toMatchObject({ chain_id: "X-3" });
    expect(await d3.stop("SIGTERM")).toBe(0);
    v = verify(d3.db, d3.publicKey);
    expect(v.code).toBe(0);
    // X-3 never got an event: no receipt, so no terminator either (nothing to terminate).
    expect(v.report.chains).toEqual([
      { chain_id: "X", valid: true, count: 4, status: "interrupted", retries: 0 },
      { chain_id: "X-2", valid: true, count: 2, status: "interrupted", retries: 0 },
    ]);
  });

  test("the default chain id is the UTC date; after a terminator it continues as YYYY-MM-DD-2, then -3", async () => {
    const dir = tempDir("ar-date-");
    const today = new Date().toISOString().slice(0, 10);
    const d1 = await daemon({ dir });
    expect(started(d1).chain_id).toBe(today);
    await runSender("node", d1.socket, sendAndConfirm([validFrame("dated", 0)]));
    expect(await d1.stop()).toBe(0);
    expect(readReceipts(d1.db, today)).toHaveLength(2);

    const d2 = await daemon({ dir });
    expect(new Date().toISOString().slice(0, 10)).toBe(today); // the date did not roll over mid-test
    expect(started(d2).chain_id).toBe(`${today}-2`);
    await runSender("node", d2.socket, sendAndConfirm([validFrame("dated", 1)]));
    expect(await d2.stop()).toBe(0);
    expect(readReceipts(d2.db, `${today}-2`).map((r) => r.receipt.credentialSubject.chain.chain_id)).toEqual([`${today}-2`, `${today}-2`]);

    const d3 = await daemon({ dir });
    expect(started(d3).chain_id).toBe(`${today}-3`);
    expect(await d3.stop()).toBe(0);
    const v = verify(d3.db, d3.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains.map((c) => c.chain_id)).toEqual([today, `${today}-2`]);
  });

  test("under load: every complete frame sent before the signal is committed before the terminator, which is last", async () => {
    const d = await daemon({ args: ["--chain-id", "busy"] });
    const runtimes: Runtime[] = ["node", "bun"];
    const senders = runtimes.map((rt, k) => ({ session: `busy-${k}`, h: spawnSender(rt, d.socket, { steps: [{ op: "gen", count: 200_000, session: `busy-${k}`, perWrite: 20, delayMs: 2 }] }) }));
    await waitFor("receipts under load", () => countReceipts(d.db), (n) => n >= 300);
    expect(await d.stop("SIGTERM")).toBe(0);
    await Promise.all(senders.map((s) => s.h.exited));
    const rows = readReceipts(d.db, "busy");
    expect(chainProblems(rows)).toEqual([]);
    expectTerminator(rows.at(-1)!, "busy", rows.length);
    let events = 0;
    for (const s of senders) {
      const n = expectPrefix(rows, s.session);
      const done = s.h.lines().find((l) => "done" in l) as { sent: number } | undefined;
      if (done !== undefined) expect(n).toBeLessThanOrEqual(done.sent);
      events += n;
    }
    expect(events).toBe(rows.length - 1);
    const v = verify(d.db, d.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains).toEqual([{ chain_id: "busy", valid: true, count: rows.length, status: "interrupted", retries: 0 }]);
  });

  test("a silent client holding half a frame delays neither other clients nor shutdown", async () => {
    const d = await daemon({ args: ["--chain-id", "silent"] });
    const silent = spawnSender("node", d.socket, { steps: [{ op: "raw", b64: Buffer.from([0, 0, 0, 100, 0x7b]).toString("base64") }, { op: "sleep", ms: 30_000 }] });
    await silent.hello;
    const t = performance.now();
    await runSender("bun", d.socket, sendAndConfirm([validFrame("talker", 0), validFrame("talker", 1)]));
    expect(performance.now() - t).toBeLessThan(3000);
    expect(readReceipts(d.db, "silent")).toHaveLength(2);
    const t0 = performance.now();
    expect(await d.stop("SIGTERM")).toBe(0);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(d.logs().find((l) => l.event === "stopped")).toMatchObject({ partial_frames_dropped: 1, events: 2, terminated: "silent" });
    silent.proc.kill("SIGKILL");
    const rows = readReceipts(d.db, "silent");
    expect(rows).toHaveLength(3);
    expectTerminator(rows[2]!, "silent", 3);
  });
});

describe("SIGKILL mid-load", () => {
  test("restart resumes with no gap and no duplicate; every receipt verifies", async () => {
    const dir = tempDir("ar-sigkill-");
    const d1 = await daemon({ dir, args: ["--chain-id", "K"] });
    // A sub-agent chain open at the time of the kill as well.
    await runSender("node", d1.socket, sendAndConfirm([validFrame("pre", 0), validFrame("agent-before", 0, { agent_id: "worker" })]));
    const runtimes: Runtime[] = ["node", "bun", "node", "bun"];
    const senders = runtimes.map((runtime, k) => {
      const session = `kill-${k}`;
      return { runtime, session, h: spawnSender(runtime, d1.socket, { steps: [{ op: "gen", count: 200_000, session, perWrite: 10, delayMs: 2 }] }) };
    });
    const hellos = await Promise.all(senders.map((s) => s.h.hello));
    // Every sender connected and committing (a slow start must not look like a lost connection), and 500 in all.
    await waitFor("receipts under load from every sender", () => sessionCounts(d1.db), (c) => senders.every((s) => (c[s.session] ?? 0) > 0) && Object.values(c).reduce((a, b) => a + b, 0) >= 500);
    expect(await d1.stop("SIGKILL")).toBe("SIGKILL");
    // The senders were still sending: they notice the dead connection and stop.
    const codes = await Promise.all(senders.map((s) => s.h.exited));
    expect(codes).toEqual([0, 0, 0, 0]);
    for (const s of senders) expect((s.h.lines().find((l) => "done" in l) as { writeError: string | null }).writeError).not.toBeNull();

    const before = readReceipts(d1.db, "K");
    const n = before.length;
    expect(n).toBeGreaterThanOrEqual(500);
    expect(chainProblems(before)).toEqual([]);
    const v1 = verify(d1.db, d1.publicKey);
    expect(v1.code).toBe(0);
    expect(v1.report.chains.sort((a, b) => a.chain_id.localeCompare(b.chain_id))).toEqual([
      { chain_id: "K", valid: true, count: n, status: "unknown", retries: 0 },
      { chain_id: "K/agent/worker", valid: true, count: 1, status: "unknown", retries: 0 },
    ]);

    // The stale socket left by SIGKILL is cleared; the chain resumes at its tail.
    const d2 = await daemon({ dir, args: ["--chain-id", "K"] });
    expect(started(d2)).toMatchObject({ chain_id: "K", resumed_at_sequence: n });
    await runSender("node", d2.socket, sendAndConfirm(Array.from({ length: 10 }, (_, i) => validFrame("after-restart", i))));
    await runSender("bun", d2.socket, sendAndConfirm([validFrame("agent-after", 0, { agent_id: "worker" })]));
    expect(await d2.stop("SIGTERM")).toBe(0);

    // The sub-agent chain resumed too: no second delegation, terminated at shutdown.
    const agent = readReceipts(d2.db, "K/agent/worker");
    expect(agent).toHaveLength(3);
    expect(chainProblems(agent)).toEqual([]);
    expect(agent[0]!.receipt.credentialSubject.delegation).toMatchObject({ parent_chain_id: "K", parent_receipt_id: before[0]!.id });
    expect(agent[1]!.receipt.issuer.session_id).toBe("agent-after");
    expect(agent[1]!.receipt.credentialSubject.delegation).toBeUndefined();
    expectTerminator(agent[2]!, "K/agent/worker", 3);

    const rows = readReceipts(d2.db, "K");
    expect(rows).toHaveLength(n + 11);
    expect(chainProblems(rows)).toEqual([]);
    expect(rows.slice(0, n).map((r) => r.receipt_hash)).toEqual(before.map((r) => r.receipt_hash));
    expect(rows[n]!.receipt.credentialSubject.chain).toEqual({ chain_id: "K", sequence: n + 1, previous_receipt_hash: before[n - 1]!.receipt_hash });
    expectTerminator(rows.at(-1)!, "K", n + 11);
    let events = 0;
    senders.forEach((s, k) => {
      events += expectPrefix(rows, s.session);
      for (const r of rows.filter((x) => x.receipt.issuer.session_id === s.session)) {
        expect(r.receipt.credentialSubject.action.peer_credential).toEqual({
          platform: "linux", pid: hellos[k]!.pid, uid: process.getuid!(), gid: process.getgid!(), exe_path: realExe(s.runtime),
        });
      }
    });
    expect(events + expectPrefix(rows, "pre")).toBe(n);
    expect(expectPrefix(rows, "after-restart")).toBe(10);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    const v2 = verify(d2.db, d2.publicKey);
    expect(v2.code).toBe(0);
    expect(v2.report.chains.sort((a, b) => a.chain_id.localeCompare(b.chain_id))).toEqual([
      { chain_id: "K", valid: true, count: n + 11, status: "interrupted", retries: 0 },
      { chain_id: "K/agent/worker", valid: true, count: 3, status: "interrupted", retries: 0 },
    ]);
  });
});

/** Receipts per issuer.session_id, read through a fresh read-only connection. */
function sessionCounts(db: string): Record<string, number> {
  const conn = new Database(db, { readonly: true });
  try {
    const rows = conn.query("SELECT json_extract(receipt_json, '$.issuer.session_id') AS s, count(*) AS n FROM receipts GROUP BY s").all() as Array<{ s: string | null; n: number }>;
    return Object.fromEntries(rows.filter((r) => r.s !== null).map((r) => [r.s, r.n]));
  } finally {
    conn.close();
  }
}
