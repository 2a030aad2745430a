// Issue 13, item 9 (the verifier's part): receipts that share an idempotency
// key are one event sent again (a retry), not an error. `verify` counts them
// per chain and in total and lists their sequences, in the human output and
// in --json. Through the compiled binary.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { frame, makeChainDb } from "../helpers/fixtures.ts";
import { chainFixture, cli, exportLines, removeTempDirs, sql, verifyDb, verifyJson } from "../helpers/verify-run.ts";
import { daemonTracker, runSender, sendAndConfirm, validFrame } from "../daemon/support.ts";

const daemons = daemonTracker();
afterAll(async () => {
  await daemons.stopAll();
  removeTempDirs();
});

/** Frames whose idempotency key is keys[i] (none where it is undefined). */
function keyed(keys: Array<string | undefined>): (i: number) => ReturnType<typeof frame> {
  return (i) => (keys[i] === undefined ? frame(i) : frame(i, { idempotency_key: keys[i] }));
}

describe("verify reports retries", () => {
  test("no key repeats: retries 0, no retries line", () => {
    const f = chainFixture(4, { frames: keyed(["a", "b", undefined, "c"]) });
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("retries");
    const j = verifyJson(f.db, f.keys.publicKey);
    expect(j.chains[0]!.retries).toBe(0);
    expect(j.retries).toEqual({ count: 0, groups: [] });
  });

  test("keys repeated within a chain: still VALID and exit 0; counted, and every sequence listed", () => {
    // Sequences 1..7: "a" at 2 and 5, "b" at 3, 4 and 7.
    const f = chainFixture(7, { terminate: true, frames: keyed(["x", "a", "b", "b", "a", "y", "b"]) });
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/VALID\s+chain test-chain\s+8 receipts\s+status: interrupted\s+retries: 3\n/);
    expect(r.stdout).toContain("retries (not an error): 3 receipts repeat an earlier receipt's idempotency key\n");
    expect(r.stdout).toContain('  key "a": chain test-chain sequences 2, 5\n');
    expect(r.stdout).toContain('  key "b": chain test-chain sequences 3, 4, 7\n');
    const j = verifyJson(f.db, f.keys.publicKey);
    expect(j.valid).toBe(true);
    expect(j.chains[0]).toMatchObject({ chain_id: "test-chain", valid: true, retries: 3 });
    expect(j.retries).toEqual({
      count: 3,
      groups: [
        { idempotency_key: "a", stage: "final", receipts: [{ chain_id: "test-chain", sequence: 2 }, { chain_id: "test-chain", sequence: 5 }] },
        {
          idempotency_key: "b",
          stage: "final",
          receipts: [{ chain_id: "test-chain", sequence: 3 }, { chain_id: "test-chain", sequence: 4 }, { chain_id: "test-chain", sequence: 7 }],
        },
      ],
    });
  });

  test("a key shared across chains: one group naming both chains; the later chain counts the retry", () => {
    const f = chainFixture(3, { chainId: "first", terminate: true, frames: keyed(["p", "shared", "q"]) });
    makeChainDb(f.db, f.keys.privateKeyPem, 2, { chainId: "second", frames: keyed(["shared", "r"]) });
    const j = verifyJson(f.db, f.keys.publicKey);
    expect(j.code).toBe(0);
    expect(j.chains.map((c) => [c.chain_id, c.retries])).toEqual([["first", 0], ["second", 1]]);
    expect(j.retries.groups).toEqual([{ idempotency_key: "shared", stage: "final", receipts: [{ chain_id: "first", sequence: 2 }, { chain_id: "second", sequence: 1 }] }]);
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.stdout).toContain('  key "shared": chain first sequence 2; chain second sequence 1\n');
  });

  test("on a long chain: a retry thousands of receipts after the original, across batches, is found", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `evt-${i}`);
    keys[4321] = "evt-17";
    const f = chainFixture(5000, { batch: 1000, frames: keyed(keys) });
    const j = verifyJson(f.db, f.keys.publicKey);
    expect(j.code).toBe(0);
    expect(j.retries).toEqual({ count: 1, groups: [{ idempotency_key: "evt-17", stage: "final", receipts: [{ chain_id: "test-chain", sequence: 18 }, { chain_id: "test-chain", sequence: 4322 }] }] });
  });

  test("only the verified part of a broken chain counts: a repeat after the break is not listed", () => {
    const f = chainFixture(8, { frames: keyed(["a", "b", "c", "a", "d", "e", "b", "f"]) });
    sql(f.db, "DELETE FROM receipts WHERE sequence = 6");
    const j = verifyJson(f.db, f.keys.publicKey);
    expect(j.code).toBe(1);
    expect(j.chains[0]!.break).toMatchObject({ index: 5, sequence: 7 });
    // "a" (1 and 4) is before the break; "b" repeats at 7, which is where the chain breaks.
    expect(j.retries.groups).toEqual([{ idempotency_key: "a", stage: "final", receipts: [{ chain_id: "test-chain", sequence: 1 }, { chain_id: "test-chain", sequence: 4 }] }]);
  });

  test("a call's stages share its key: pending, interim and final receipts are one call; a stage sent twice is a retry", () => {
    // Sequences 1..6: call "c1" pending, interim answer, final; call "c2" pending sent twice, then final.
    const stages: Array<[string, Partial<ReturnType<typeof frame>>]> = [
      ["c1", { decision: "pending", output: undefined }],
      ["c1", { decision: "pending", output: { resultType: "input_required" } }],
      ["c1", { decision: "allowed" }],
      ["c2", { decision: "pending", output: undefined }],
      ["c2", { decision: "pending", output: undefined }],
      ["c2", { decision: "allowed", error: "the tool failed" }],
    ];
    const f = chainFixture(6, { frames: (i) => frame(i, { idempotency_key: stages[i]![0], ...stages[i]![1] }) });
    const j = verifyJson(f.db, f.keys.publicKey);
    expect(j.code).toBe(0);
    expect(j.retries).toEqual({ count: 1, groups: [{ idempotency_key: "c2", stage: "pending", receipts: [{ chain_id: "test-chain", sequence: 4 }, { chain_id: "test-chain", sequence: 5 }] }] });
    expect(verifyDb(f.db, f.keys.publicKey).stdout).toContain('  key "c2" (pending receipts): chain test-chain sequences 4, 5\n');
  });

  test("--file: retries are listed the same way", () => {
    const f = chainFixture(5, { frames: keyed(["a", "b", "a", "c", "a"]) });
    const file = join(f.dir, "export.jsonl");
    writeFileSync(file, `${exportLines(f.db, f.chainId).join("\n")}\n`);
    const r = cli(["verify", "--file", file, "--public-key", f.keys.publicKey, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { retries: unknown; chains: Array<{ retries: number }> };
    expect(j.chains[0]!.retries).toBe(2);
    expect(j.retries).toEqual({
      count: 2,
      groups: [{ idempotency_key: "a", stage: "final", receipts: [1, 3, 5].map((sequence) => ({ chain_id: "test-chain", sequence })) }],
    });
  });

  test("an event sent twice to a real daemon with the same idempotency key: one retry, listed by sequence", async () => {
    const d = await daemons.start({ args: ["--chain-id", "live"] });
    const frames = [
      validFrame("s1", 0, { idempotency_key: "call-1" }),
      validFrame("s1", 1, { idempotency_key: "call-2" }),
      // The emitter did not see the confirmation and sent call-2 again, on a new connection.
    ];
    await runSender("node", d.socket, sendAndConfirm(frames));
    await runSender("bun", d.socket, sendAndConfirm([validFrame("s1", 1, { idempotency_key: "call-2" })]));
    expect(await d.stop("SIGTERM")).toBe(0);
    const j = verifyJson(d.db, d.publicKey);
    expect(j.code).toBe(0);
    expect(j.chains).toEqual([{ chain_id: "live", valid: true, count: 4, status: "interrupted", retries: 1 }]);
    expect(j.retries).toEqual({ count: 1, groups: [{ idempotency_key: "call-2", stage: "final", receipts: [{ chain_id: "live", sequence: 2 }, { chain_id: "live", sequence: 3 }] }] });
  });
});
