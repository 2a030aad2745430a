// The daemon's `witness:URL VKEY` anchor against the compiled witness over
// real HTTP on loopback: it learns the witness's size from a 409, catches a
// witness that was down up in one proof, keeps only cosignatures that verify,
// and reports a truncated or forked log instead of getting it cosigned.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseWitnessAnchorSpec, WitnessAnchor } from "../../src/daemon/anchors/witness.ts";
import { verifyCosignature } from "../../src/tlog/cosignature.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { TestLog } from "../helpers/test-log.ts";
import { addCheckpoint, initWitnessKey, startWitness, type WitnessProcess } from "../helpers/witness.ts";

const running: WitnessProcess[] = [];
afterEach(async () => {
  for (const w of running.splice(0)) await w.stop("SIGKILL");
});

async function witness(log: TestLog, opts: { dir?: string; port?: number } = {}) {
  const dir = opts.dir ?? tempDir("ar-anchor-");
  const key = opts.dir === undefined ? initWitnessKey(dir) : { key: join(dir, "witness.key"), vkey: (await Bun.file(join(dir, "witness.key.vkey")).text()).trim() };
  const w = await startWitness({ db: join(dir, "witness.db"), key: key.key, logs: [log.vkey], port: opts.port });
  running.push(w);
  return { w, dir, vkey: key.vkey, port: Number(new URL(w.url).port) };
}

function publish(anchor: WitnessAnchor, log: TestLog, size = log.leaves.length) {
  return anchor.publish({ note: log.checkpoint(size), size, root: log.root(size) }, { consistency: (from) => log.consistency(from, size) });
}

describe("witness anchor", () => {
  test("publishes, returns verified cosignature lines, and sends a consistency proof from the last acknowledged size", async () => {
    const log = new TestLog("log.test/a").grow(10);
    const { w, vkey } = await witness(log);
    const anchor = new WitnessAnchor(parseWitnessAnchorSpec(`${w.url}/ ${vkey}`));
    expect(anchor.name).toBe(`witness:${w.url}/`);
    const first = await publish(anchor, log);
    expect(first.cosignatures?.length).toBe(1);
    expect(first.cosignatures![0]!.endsWith("\n")).toBe(true);
    expect(verifyCosignature(vkey, log.text(10), first.cosignatures![0]!)).not.toBeNull();
    log.grow(25);
    const second = await publish(anchor, log);
    expect(verifyCosignature(vkey, log.text(25), second.cosignatures![0]!)).not.toBeNull();
    expect(anchor.acknowledgedSize).toBe(25);
  });

  test("a fresh anchor (a restarted daemon) learns the witness's size from the 409 and continues", async () => {
    const log = new TestLog("log.test/a").grow(10);
    const { w, vkey } = await witness(log);
    await publish(new WitnessAnchor({ url: w.url, vkey }), log);
    log.grow(30);
    const restarted = new WitnessAnchor({ url: w.url, vkey });
    const r = await publish(restarted, log);
    expect(verifyCosignature(vkey, log.text(30), r.cosignatures![0]!)).not.toBeNull();
    expect(restarted.acknowledgedSize).toBe(30);
  });

  test("a witness that was down is caught up to the newest checkpoint with one proof", async () => {
    const log = new TestLog("log.test/a").grow(10);
    const first = await witness(log);
    const anchor = new WitnessAnchor({ url: first.w.url, vkey: first.vkey }, { timeoutMs: 2000 });
    await publish(anchor, log);
    await first.w.stop("SIGKILL");
    running.splice(running.indexOf(first.w), 1);

    // Checkpoints issued while it is down fail fast and are retried later by the runner.
    for (const size of [20, 30, 40]) {
      log.grow(size);
      const started = performance.now();
      await expect(publish(anchor, log)).rejects.toThrow(/unreachable/);
      expect(performance.now() - started).toBeLessThan(2500);
    }
    log.grow(1234);
    const back = await witness(log, { dir: first.dir, port: first.port });
    const r = await publish(anchor, log);
    expect(verifyCosignature(first.vkey, log.text(1234), r.cosignatures![0]!)).not.toBeNull();
    // The witness now holds 1234: a client from 0 is told so.
    expect((await addCheckpoint(back.w.url, log.request(0))).body).toBe("1234\n");
  });

  test("a log smaller than what the witness cosigned (truncated) is reported, not cosigned", async () => {
    const log = new TestLog("log.test/a").grow(100);
    const { w, vkey } = await witness(log);
    await publish(new WitnessAnchor({ url: w.url, vkey }), log);
    // The database lost its last 10 receipts and a restarted daemon signs size 90 again.
    const anchor = new WitnessAnchor({ url: w.url, vkey });
    await expect(publish(anchor, log, 90)).rejects.toThrow(/has cosigned size 100 of this log, more than this checkpoint's 90/);
  });

  test("a forked log (a receipt rewritten, tree rebuilt) gets a 422 explained as a fork", async () => {
    const log = new TestLog("log.test/a").grow(100);
    const { w, vkey } = await witness(log);
    const anchor = new WitnessAnchor({ url: w.url, vkey });
    await publish(anchor, log);
    const forked = log.fork("rewritten", 50).grow(120);
    await expect(publish(anchor, forked)).rejects.toThrow(/answered 422 \(it has cosigned another history of this log: the log was rewritten or forked\): consistency proof from size 100/);
  });

  test("cosignatures that do not verify with the configured vkey are refused", async () => {
    const log = new TestLog("log.test/a").grow(5);
    const { w } = await witness(log);
    const otherVkey = initWitnessKey(tempDir("ar-anchor-other-")).vkey;
    await expect(publish(new WitnessAnchor({ url: w.url, vkey: otherVkey }), log)).rejects.toThrow(/no cosignature verifies/);
  });

  test("bad anchor specs are refused with the fix", () => {
    const vkey = "witness.test/w1+2abf1efe+BM04mq4GIxJRahh3jM5kyZyzaxW0mpSSgvrcMoaIvSmy";
    expect(() => parseWitnessAnchorSpec("http://127.0.0.1:1")).toThrow(/must be "witness:URL VKEY"/);
    expect(() => parseWitnessAnchorSpec(`ftp://x ${vkey}`)).toThrow(/http:\/\/ or https:\/\//);
    expect(() => parseWitnessAnchorSpec(`not-a-url ${vkey}`)).toThrow(/is not a URL/);
    expect(() => parseWitnessAnchorSpec("http://127.0.0.1:1 junk")).toThrow(/not a note verifier key/);
    expect(parseWitnessAnchorSpec(` http://127.0.0.1:1  ${vkey} `)).toEqual({ url: "http://127.0.0.1:1", vkey });
  });
});
