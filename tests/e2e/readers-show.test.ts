// `agent-receipts show` through the compiled binary: what it says above a
// receipt (signature, link, position, meaning) on a database the compiled
// daemon wrote, on rows tampered with plain SQL, and its bad input.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { makeChainDb, writeKeyFiles } from "../helpers/fixtures.ts";
import { CHAIN, storedRows, type ReaderFixture, useReaderFixture, type StoredRow } from "../helpers/reader-fixture.ts";
import { cli, scratchDir } from "../helpers/verify-run.ts";

let fx: ReaderFixture;
let rows: StoredRow[];

useReaderFixture((f) => {
  fx = f;
  rows = storedRows(f.db);
});

const show = (ref: string, ...args: string[]) => cli(["show", ref, "--db", fx.db, "--public-key", fx.publicKey, ...args]);
const find = (rule: (r: StoredRow) => boolean) => rows.find(rule)!;

describe("show: checks above the receipt", () => {
  test("by id: position, a valid signature, an intact link, then the receipt pretty-printed", () => {
    const r = find((x) => x.chainId === CHAIN && x.sequence === 3);
    const out = show(r.id);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`position   chain ${CHAIN}, sequence 3 of 1..`);
    expect(out.stdout).toMatch(/signature  valid under key sha256:[0-9a-f]{64}/);
    expect(out.stdout).toContain("link       intact: previous_receipt_hash is the hash of sequence 2");
    const json = out.stdout.slice(out.stdout.indexOf("{"));
    expect(JSON.parse(json)).toEqual(JSON.parse(r.json));
    expect(json).toContain('\n  "credentialSubject": {');
  });

  test("a bare sequence is in the newest root chain; CHAIN:SEQ in any; a bare uuid is an id", () => {
    const newest = rows.filter((x) => x.chainId === `${CHAIN}-2`);
    expect(show("2").stdout).toContain(`chain ${CHAIN}-2, sequence 2 of 1..${newest.length}`);
    expect(show(`${CHAIN}:1`).stdout).toContain("link       first receipt of its chain (no previous receipt)");
    const r = find((x) => x.chainId === CHAIN && x.sequence === 2);
    expect(show(r.id.replace("urn:receipt:", "")).stdout).toContain(`chain ${CHAIN}, sequence 2 of`);
  });

  test("events_dropped, terminator and delegation receipts say what they mean", () => {
    const dropped = find((x) => x.receipt.credentialSubject.action.type === "agent_receipts.events_dropped");
    expect(show(dropped.id).stdout).toMatch(/note       events_dropped: the emitter \(session sA, pid \d+, uid \d+\) reported 3 event\(s\) it could not deliver/);
    const terminator = find((x) => x.chainId === CHAIN && x.receipt.credentialSubject.chain.terminal === true);
    const t = show(`${CHAIN}:${terminator.sequence}`).stdout;
    expect(t).toContain("(its terminator)");
    expect(t).toContain("note       terminator: the daemon closed this chain when it stopped (status interrupted");
    expect(show(`${CHAIN}/agent/helper:1`).stdout).toMatch(new RegExp(`note       delegation: the first receipt of a sub-agent chain, started from receipt urn:receipt:\\S+ of chain ${CHAIN}\\.`));
  });

  test("--json prints the stored text unchanged, alone", () => {
    const r = find((x) => x.chainId === CHAIN && x.sequence === 4);
    expect(show(r.id, "--json").stdout).toBe(`${r.json}\n`);
  });

  test("without a public key the receipt is shown, its signature not checked (exit 0); a named key that is missing is an error", () => {
    const r = cli(["show", `${CHAIN}:2`, "--db", fx.db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/signature  not checked: public key .* does not exist/);
    const missing = cli(["show", `${CHAIN}:2`, "--db", fx.db, "--public-key", join(fx.dir, "nope.pub")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/public key .*nope\.pub does not exist/);
  });
});

describe("show: tampered rows and the wrong key (exit 1)", () => {
  function tampered(): { db: string; publicKey: string; otherKey: string } {
    const dir = scratchDir("ar-show-tamper-");
    const keys = writeKeyFiles(dir);
    const other = writeKeyFiles(dir, "other.key");
    const db = join(dir, "receipts.db");
    makeChainDb(db, keys.privateKeyPem, 6, { chainId: "t" });
    const conn = new Database(db);
    conn.run("UPDATE receipts SET receipt_json = json_set(receipt_json, '$.credentialSubject.action.tool_name', 'rm') WHERE sequence = 4");
    conn.close();
    return { db, publicKey: keys.publicKey, otherKey: other.publicKey };
  }

  test("an altered receipt fails its signature; the next one's link to it breaks", () => {
    const t = tampered();
    const four = cli(["show", "t:4", "--db", t.db, "--public-key", t.publicKey]);
    expect(four.code).toBe(1);
    expect(four.stdout).toContain("signature  INVALID: does not verify under key");
    const five = cli(["show", "t:5", "--db", t.db, "--public-key", t.publicKey]);
    expect(five.code).toBe(1);
    expect(five.stdout).toMatch(/signature  valid under key/);
    expect(five.stdout).toMatch(/link       BROKEN: previous_receipt_hash sha256:[0-9a-f]{64} != hash of sequence 4 sha256:[0-9a-f]{64}/);
    expect(cli(["show", "t:3", "--db", t.db, "--public-key", t.publicKey]).code).toBe(0);
  });

  test("another key: INVALID, exit 1", () => {
    const t = tampered();
    const r = cli(["show", "t:2", "--db", t.db, "--public-key", t.otherKey]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("signature  INVALID");
  });
});

describe("show: bad input exits 2 with one line naming the problem", () => {
  const cases: Array<[string, RegExp]> = [
    ["urn:receipt:00000000-0000-4000-8000-000000000000", /no receipt urn:receipt:00000000-0000-4000-8000-000000000000 in .*Run agent-receipts list/],
    ["9999", new RegExp(`the newest chain, ${CHAIN}-2, has no receipt with sequence 9999: it holds sequences 1 to \\d+`)],
    [`${CHAIN}:9999`, new RegExp(`chain ${CHAIN} has no receipt with sequence 9999`)],
    ["nochain:1", /no chain "nochain" in /],
    ["hello", /"hello" is not a receipt reference: give a receipt id/],
  ];
  for (const [ref, message] of cases) {
    test(ref, () => {
      const r = show(ref);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    });
  }

  test("no ref, and an unreadable database", () => {
    const none = cli(["show", "--db", fx.db]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/missing <ref>/);
    const missing = cli(["show", "1", "--db", join(fx.dir, "missing.db")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing\.db does not exist/);
  });
});
