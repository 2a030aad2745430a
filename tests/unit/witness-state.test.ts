// The witness's decisions and state on a real SQLite file, for what HTTP
// cannot reach: a clock set back, the store's own refusal to roll back or
// fork, the cap on kept evidence, and a file that is not a witness database.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { cosignatureSigner, verifyCosignature, cosignatureVerifierKey } from "../../src/tlog/cosignature.ts";
import { generateKeyPair, parsePrivateKey, parsePublicKey, rawPublicKey, signBytes } from "../../src/receipt/keys.ts";
import { trustedLogs } from "../../src/witness/logs.ts";
import { MAX_REFUSALS, WitnessState, WitnessStateError } from "../../src/witness/state.ts";
import { Witness } from "../../src/witness/witness.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { TestLog } from "../helpers/test-log.ts";

function witnessKey() {
  const pair = generateKeyPair();
  const priv = parsePrivateKey(pair.privateKeyPem);
  const raw = rawPublicKey(parsePublicKey(pair.publicKeyPem));
  return { signer: cosignatureSigner("witness.test/w1", (m) => signBytes(priv, m), raw), vkey: cosignatureVerifierKey("witness.test/w1", raw) };
}

describe("witness decisions", () => {
  test("a clock set back never makes a newer cosignature carry an older time", () => {
    const log = new TestLog("log.test/a").grow(4);
    const key = witnessKey();
    const state = new WitnessState(join(tempDir("ar-wstate-"), "w.db"));
    let now = 2_000_000_000;
    const witness = new Witness({ state, logs: trustedLogs([log.vkey]), signer: key.signer, now: () => now });
    const first = witness.addCheckpoint(log.request(0));
    expect(verifyCosignature(key.vkey, log.text(4), first.body)).toEqual({ time: 2_000_000_000 });
    now = 1_000_000_000;
    log.grow(9);
    const second = witness.addCheckpoint(log.request(4));
    expect(second.status).toBe(200);
    expect(verifyCosignature(key.vkey, log.text(9), second.body)).toEqual({ time: 2_000_000_000 });
    state.close();
  });

  test("the store itself refuses to roll back a log or record another root at the cosigned size", () => {
    const state = new WitnessState(join(tempDir("ar-wstate-"), "w.db"));
    const root = new Uint8Array(32).fill(7);
    state.record({ origin: "o", size: 10, root, note: "n", cosignedAt: 1 });
    expect(() => state.record({ origin: "o", size: 9, root, note: "n", cosignedAt: 2 })).toThrow(/roll back or fork/);
    expect(() => state.record({ origin: "o", size: 10, root: new Uint8Array(32), note: "n", cosignedAt: 2 })).toThrow(/roll back or fork/);
    state.record({ origin: "o", size: 10, root, note: "n2", cosignedAt: 3 });
    state.record({ origin: "o", size: 11, root: new Uint8Array(32), note: "n3", cosignedAt: 4 });
    expect(state.latest("o")?.size).toBe(11);
    state.close();
  });

  test("evidence of refused checkpoints is kept, the newest MAX_REFUSALS of them", () => {
    const state = new WitnessState(join(tempDir("ar-wstate-"), "w.db"));
    state.atomically(() => {
      for (let i = 0; i < MAX_REFUSALS + 5; i++) state.recordRefusal({ origin: "o", oldSize: i, size: i + 1, root: new Uint8Array(32), status: 422, reason: `r${i}`, note: "n", at: i });
    });
    const kept = state.refusals("o");
    expect(kept.length).toBe(MAX_REFUSALS);
    expect(kept[0]!.reason).toBe("r5");
    expect(kept.at(-1)!.reason).toBe(`r${MAX_REFUSALS + 4}`);
    state.close();
  });

  test("only a witness database is opened: another program's file is refused, its own is reopened", () => {
    const dir = tempDir("ar-wstate-");
    const foreign = join(dir, "other.db");
    const db = new Database(foreign);
    db.run("CREATE TABLE receipts (id TEXT)");
    db.close();
    expect(() => new WitnessState(foreign)).toThrow(WitnessStateError);
    const own = join(dir, "w.db");
    const state = new WitnessState(own);
    state.record({ origin: "o", size: 1, root: new Uint8Array(32), note: "n", cosignedAt: 1 });
    state.close();
    const again = new WitnessState(own);
    expect(again.latest("o")?.size).toBe(1);
    again.close();
  });
});
