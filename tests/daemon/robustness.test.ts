// Hostile-but-legal input must never wedge the daemon: a deeply nested
// payload (well under 1 MiB) is either recorded with the right hash or dropped
// as a payload error, and every other frame keeps flowing.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { startDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { killSenders, chainProblems, readReceipts, runSender, sendAndConfirm, validFrame, verify, waitFor } from "./support.ts";

setDefaultTimeout(30_000);

const CHAIN = "deep";
let d: DaemonHandle;
let expected = 0;

beforeAll(async () => {
  d = await startDaemon({ args: ["--chain-id", CHAIN] });
});
afterAll(async () => {
  killSenders();
  await d.stop("SIGKILL");
});

function nested(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

function hashOfText(json: string): string | undefined {
  try {
    const text = canonicalize(JSON.parse(json));
    return text === undefined ? undefined : `sha256:${createHash("sha256").update(text).digest("hex")}`;
  } catch {
    return undefined; // too deep for this thread's stack too
  }
}

describe("deeply nested payloads", () => {
  test.each([1_000, 20_000, 100_000])("input nested %i deep: recorded correctly or dropped, and the daemon keeps committing", async (depth) => {
    const session = `deep-${depth}`;
    const body = `{"v":"1","ts_emit":"2026-01-01T00:00:00Z","session_id":"${session}","channel":"sdk","tool":{"name":"t"},"decision":"allowed","input":${nested(depth)}}`;
    expect(Buffer.byteLength(body)).toBeLessThan(1024 * 1024);
    const after = validFrame(`after-${depth}`, 0);
    const r = await runSender("node", d.socket, {
      steps: [{ op: "body", text: body }, { op: "frames", frames: [after], mode: "each" }, { op: "end" }, { op: "waitClose", timeoutMs: 3000 }],
    });
    // The valid frame behind it, on the same connection, is committed and confirmed.
    expect(r.lines.find((l) => "closed" in l)).toMatchObject({ closed: true, by: "end" });
    // And another connection still gets through.
    const other = await runSender("bun", d.socket, {
      steps: [{ op: "frames", frames: [validFrame(`other-${depth}`, 0)], mode: "each" }, { op: "end" }, { op: "waitClose", timeoutMs: 3000 }],
    });
    expect(other.lines.find((l) => "closed" in l)).toMatchObject({ closed: true, by: "end" });

    const rows = await waitFor("the receipts after the deep frame", () => readReceipts(d.db, CHAIN), (x) => x.length >= expected + 2, 3000);
    const deep = rows.filter((x) => x.receipt.issuer.session_id === session);
    expect(deep.length).toBeLessThanOrEqual(1);
    if (deep.length === 1) {
      const h = hashOfText(nested(depth));
      if (h !== undefined) expect(deep[0]!.receipt.credentialSubject.action.parameters_hash).toBe(h);
    }
    expected += deep.length + 2;
    expect(rows).toHaveLength(expected);
    expect(chainProblems(rows)).toEqual([]);
    expect(rows.slice(-2).map((x) => x.receipt.issuer.session_id)).toEqual([`after-${depth}`, `other-${depth}`]);
    expect(d.proc.exitCode).toBeNull();
  });

  test("the daemon still stops cleanly (exit 0, terminator) and verify accepts the chain", async () => {
    await runSender("node", d.socket, sendAndConfirm([validFrame("last", 0)]));
    expected++;
    expect(await d.stop("SIGTERM")).toBe(0);
    const rows = readReceipts(d.db, CHAIN);
    expect(rows).toHaveLength(expected + 1);
    expect(rows.at(-1)!.receipt.credentialSubject.chain).toMatchObject({ terminal: true, status: "interrupted" });
    const v = verify(d.db, d.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains).toEqual([{ chain_id: CHAIN, valid: true, count: expected + 1, status: "interrupted", retries: 0 }]);
  });
});
