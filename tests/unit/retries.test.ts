// The verifier's bookkeeping of idempotency keys (src/verify/retries.ts):
// hashes kept in fixed chunks, candidates found by sorting, exact groups by
// the keys read back.
import { describe, expect, test } from "bun:test";
import { eventKeyOf, exactGroups, keyHash, RetryTracker, stageOf, type EventKey, type ReceiptPlace, type Stage } from "../../src/verify/retries.ts";

const final = (key: string | undefined): EventKey | undefined => (key === undefined ? undefined : { idempotencyKey: key, stage: "final" });

function batch(keys: Array<string | EventKey>, firstIndex: number): [BigUint64Array, Float64Array] {
  const eventKeys = keys.map((k) => (typeof k === "string" ? final(k)! : k));
  return [BigUint64Array.from(eventKeys.map(keyHash)), Float64Array.from(keys.map((_, i) => firstIndex + i))];
}

describe("RetryTracker", () => {
  test("repeats are found across many chunks and chains, in the order they were added", () => {
    const t = new RetryTracker();
    const keys = Array.from({ length: 50_000 }, (_, i) => `k${i}`);
    keys[40_000] = "k7"; // far past the first chunk of 16384
    for (let base = 0; base < keys.length; base += 1024) t.add(0, ...batch(keys.slice(base, base + 1024), base), Infinity);
    t.add(1, ...batch(["k49999", "fresh"], 0), Infinity);
    const groups = exactGroups(t.candidates(), (p) => final(p.chain === 0 ? keys[p.index] : ["k49999", "fresh"][p.index]));
    expect(groups).toEqual([
      { idempotencyKey: "k7", stage: "final", receipts: [{ chain: 0, index: 7 }, { chain: 0, index: 40_000 }] },
      { idempotencyKey: "k49999", stage: "final", receipts: [{ chain: 0, index: 49_999 }, { chain: 1, index: 0 }] },
    ]);
  });

  test("receipts at or past the limit (where the chain broke) are not recorded", () => {
    const t = new RetryTracker();
    t.add(0, ...batch(["a", "b", "a", "b"], 0), 3);
    const groups = exactGroups(t.candidates(), (p: ReceiptPlace) => final(["a", "b", "a", "b"][p.index]));
    expect(groups.map((g) => g.idempotencyKey)).toEqual(["a"]);
  });

  test("a key read back that no longer hashes the same (the row changed since) is left out", () => {
    const t = new RetryTracker();
    t.add(0, ...batch(["a", "a", "a"], 0), Infinity);
    const groups = exactGroups(t.candidates(), (p) => final(p.index === 1 ? "changed" : "a"));
    expect(groups).toEqual([{ idempotencyKey: "a", stage: "final", receipts: [{ chain: 0, index: 0 }, { chain: 0, index: 2 }] }]);
  });

  test("nothing repeated: no candidates", () => {
    const t = new RetryTracker();
    t.add(0, ...batch(["a", "b", "c"], 0), Infinity);
    expect(t.candidates()).toEqual([]);
  });

  test("a call's pending, interim and final receipts share its key without being retries; a stage sent twice is one", () => {
    const at = (key: string, stage: Stage): EventKey => ({ idempotencyKey: key, stage });
    const keys = [at("call-1", "pending"), at("call-1", "interim"), at("call-1", "final"), at("call-2", "pending"), at("call-2", "pending"), at("call-2", "final")];
    const t = new RetryTracker();
    t.add(0, ...batch(keys, 0), Infinity);
    expect(exactGroups(t.candidates(), (p) => keys[p.index])).toEqual([{ idempotencyKey: "call-2", stage: "pending", receipts: [{ chain: 0, index: 3 }, { chain: 0, index: 4 }] }]);
  });
});

describe("stageOf", () => {
  test("pending without a response, pending with one (interim), and every other status (final)", () => {
    expect(stageOf({ status: "pending" })).toBe("pending");
    expect(stageOf({ status: "pending", response_hash: "sha256:00" })).toBe("interim");
    expect(stageOf({ status: "success", response_hash: "sha256:00" })).toBe("final");
    expect(stageOf({ status: "failure" })).toBe("final");
    expect(stageOf(undefined)).toBe("final");
  });

  test("eventKeyOf: only a string idempotency key makes an event key", () => {
    expect(eventKeyOf({ action: { idempotency_key: "k" }, outcome: { status: "pending" } })).toEqual({ idempotencyKey: "k", stage: "pending" });
    expect(eventKeyOf({ action: { idempotency_key: 7 }, outcome: { status: "success" } })).toBeUndefined();
    expect(eventKeyOf({ outcome: { status: "success" } })).toBeUndefined();
  });
});
