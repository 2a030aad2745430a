// Issue 10, verify additions: advisories that leave a chain valid (no
// terminator, retried calls, events the emitters reported lost), in the text
// output and as `warnings` in --json; and an empty database or file is
// "nothing to verify" (exit 0). Through the compiled binary, on databases
// written by the chain writer or by a real daemon.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { frame, makeChainDb, writeKeyFiles } from "../helpers/fixtures.ts";
import { chainFixture, cli, exportLines, removeTempDirs, scratchDir, sql, STACK_LINE, verifyDb, verifyJson, type VerifyJsonOut } from "../helpers/verify-run.ts";
import { daemonTracker, runSender, sendAndConfirm, validFrame } from "../daemon/support.ts";

const daemons = daemonTracker();
afterAll(async () => {
  await daemons.stopAll();
  removeTempDirs();
});

interface WarningOut {
  kind: "no_terminator" | "retried_call" | "events_dropped";
  chain_id: string;
  message: string;
  last_sequence?: number | null;
  idempotency_key?: string;
  stage?: string;
  retries?: number;
  receipts?: number;
  events?: number;
}

type AdvisedJson = VerifyJsonOut & { nothing_to_verify: boolean; warnings: WarningOut[] };

/** Frame i of a chain: with idempotency key keys[i] (when given) and drop_count drops[i] (when given). */
function frames(keys: Array<string | undefined>, drops: Record<number, number> = {}): (i: number) => ReturnType<typeof frame> {
  return (i) => frame(i, { ...(keys[i] === undefined ? {} : { idempotency_key: keys[i] }), ...(drops[i] === undefined ? {} : { drop_count: drops[i] }) });
}

/** The warnings without their human message, for exact comparison. */
function kinds(j: AdvisedJson): Array<Omit<WarningOut, "message">> {
  return j.warnings.map(({ message: _, ...w }) => w);
}

describe("no terminator", () => {
  test("a chain without terminator is VALID (exit 0) with one no_terminator warning naming its last sequence", () => {
    const f = chainFixture(5);
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^VALID\s+chain test-chain\s+5 receipts\s+status: unknown \(tail completeness not proven\)\n/);
    expect(r.stdout).toContain("warning: chain test-chain has no terminator: tail completeness not proven after sequence 5 (");
    expect(r.stdout).toMatch(/1 chain\(s\) verified with key sha256:[0-9a-f]{64}; 1 warning\n$/);
    const j = verifyJson<AdvisedJson>(f.db, f.keys.publicKey);
    expect(j.valid).toBe(true);
    expect(kinds(j)).toEqual([{ kind: "no_terminator", chain_id: "test-chain", last_sequence: 5 }]);
    expect(j.warnings[0]!.message).toContain("tail completeness not proven after sequence 5");
  });

  test("a terminated chain has no warning at all: warnings [] and no warning line", () => {
    const f = chainFixture(5, { terminate: true });
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("warning");
    const j = verifyJson<AdvisedJson>(f.db, f.keys.publicKey);
    expect(j.warnings).toEqual([]);
    expect(j.nothing_to_verify).toBe(false);
  });

  test("a broken chain gets no no_terminator warning: its unknown status comes from the break, already an error", () => {
    const f = chainFixture(6);
    sql(f.db, "DELETE FROM receipts WHERE sequence = 3");
    const j = verifyJson<AdvisedJson>(f.db, f.keys.publicKey);
    expect(j.code).toBe(1);
    expect(j.warnings).toEqual([]);
  });

  test("one warning per unterminated chain, in report order", () => {
    const f = chainFixture(3, { chainId: "closed", terminate: true });
    makeChainDb(f.db, f.keys.privateKeyPem, 2, { chainId: "open-a" });
    makeChainDb(f.db, f.keys.privateKeyPem, 4, { chainId: "open-b" });
    const j = verifyJson<AdvisedJson>(f.db, f.keys.publicKey);
    expect(j.code).toBe(0);
    expect(kinds(j)).toEqual([
      { kind: "no_terminator", chain_id: "open-a", last_sequence: 2 },
      { kind: "no_terminator", chain_id: "open-b", last_sequence: 4 },
    ]);
  });
});

describe("retried calls", () => {
  test("each duplicate key is one warning (a key sent three times too); valid stays true", () => {
    // Sequences 1..7: "a" at 2 and 5, "b" at 3, 4 and 7.
    const f = chainFixture(7, { terminate: true, frames: frames(["x", "a", "b", "b", "a", "y", "b"]) });
    const j = verifyJson<AdvisedJson>(f.db, f.keys.publicKey);
    expect(j.code).toBe(0);
    expect(j.valid).toBe(true);
    expect(kinds(j)).toEqual([
      { kind: "retried_call", chain_id: "test-chain", idempotency_key: "a", stage: "final", retries: 1 },
      { kind: "retried_call", chain_id: "test-chain", idempotency_key: "b", stage: "final", retries: 2 },
    ]);
    expect(j.warnings[1]!.message).toBe('idempotency key "b" was sent 3 times (a retried call): chain test-chain sequences 3, 4, 7');
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("warning: retries (not an error): 3 receipts repeat an earlier receipt's idempotency key\n");
    // Each key once in the text as well.
    expect(r.stdout.match(/key "b"/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/; 2 warnings\n$/);
  });

  test("a key shared by two chains is one warning, under the chain of the original", () => {
    const f = chainFixture(3, { chainId: "first", terminate: true, frames: frames(["p", "shared", "q"]) });
    makeChainDb(f.db, f.keys.privateKeyPem, 2, { chainId: "second", terminate: true, frames: frames(["shared", "r"]) });
    const j = verifyJson<AdvisedJson>(f.db, f.keys.publicKey);
    expect(j.code).toBe(0);
    expect(kinds(j)).toEqual([{ kind: "retried_call", chain_id: "first", idempotency_key: "shared", stage: "final", retries: 1 }]);
    expect(j.warnings[0]!.message).toContain("chain first sequence 2; chain second sequence 1");
  });
});

describe("events_dropped receipts", () => {
  test("their drop counts are summed per chain: events and receipts", () => {
    const f = chainFixture(6, { chainId: "lossy", terminate: true, frames: frames([], { 1: 3, 4: 4 }) });
    makeChainDb(f.db, f.keys.privateKeyPem, 2, { chainId: "other", terminate: true, frames: frames([], { 0: 1 }) });
    makeChainDb(f.db, f.keys.privateKeyPem, 2, { chainId: "clean", terminate: true });
    const j = verifyJson<AdvisedJson>(f.db, f.keys.publicKey);
    expect(j.code).toBe(0);
    expect(j.valid).toBe(true);
    expect(kinds(j)).toEqual([
      { kind: "events_dropped", chain_id: "lossy", receipts: 2, events: 7 },
      { kind: "events_dropped", chain_id: "other", receipts: 1, events: 1 },
    ]);
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.stdout).toContain("warning: chain lossy: emitters reported 7 events lost before delivery (2 events_dropped receipts)\n");
    expect(r.stdout).toContain("warning: chain other: emitters reported 1 event lost before delivery (1 events_dropped receipt)\n");
    expect(r.stdout).not.toContain("chain clean:");
  });

  test("only the verified part counts: a drop receipt at or after the break, or with an edited count, adds nothing", () => {
    // Event i gets a drop receipt before it when drops[i] is set: sequences 1 (drop 2), 2, 3, 4 (drop 5), 5, 6, 7 (drop 9), 8.
    const f = chainFixture(6, { frames: frames([], { 0: 2, 2: 5, 4: 9 }) });
    const j0 = verifyJson<AdvisedJson>(f.db, f.keys.publicKey);
    expect(kinds(j0)).toContainEqual({ kind: "events_dropped", chain_id: "test-chain", receipts: 3, events: 16 });
    // The drop count of sequence 4 raised without re-signing: the chain breaks there, and only sequence 1's drop remains.
    sql(f.db, "UPDATE receipts SET receipt_json = replace(receipt_json, '\"drop_count\":5', '\"drop_count\":500') WHERE sequence = 4");
    const j = verifyJson<AdvisedJson>(f.db, f.keys.publicKey);
    expect(j.code).toBe(1);
    expect(j.chains[0]!.break).toMatchObject({ sequence: 4, reason: "bad_signature" });
    expect(kinds(j)).toEqual([{ kind: "events_dropped", chain_id: "test-chain", receipts: 1, events: 2 }]);
  });

  test("a real daemon: warnings while it writes the chain, then only the dropped events once it stops", async () => {
    const d = await daemons.start({ args: ["--chain-id", "live"] });
    await runSender("node", d.socket, sendAndConfirm([
      validFrame("s1", 0, { idempotency_key: "call-1" }),
      validFrame("s1", 1, { idempotency_key: "call-2", drop_count: 3 }),
      validFrame("s1", 2, { idempotency_key: "call-3", drop_count: 2 }),
    ]));
    // The emitter did not see the confirmation of call-3 and sent it again.
    await runSender("bun", d.socket, sendAndConfirm([validFrame("s1", 2, { idempotency_key: "call-3" })]));
    // 1 call-1, 2 drop(3), 3 call-2, 4 drop(2), 5 call-3, 6 call-3 again.
    const running = verifyJson<AdvisedJson>(d.db, d.publicKey);
    expect(running.code).toBe(0);
    expect(kinds(running)).toEqual([
      { kind: "no_terminator", chain_id: "live", last_sequence: 6 },
      { kind: "events_dropped", chain_id: "live", receipts: 2, events: 5 },
      { kind: "retried_call", chain_id: "live", idempotency_key: "call-3", stage: "final", retries: 1 },
    ]);
    expect(await d.stop("SIGTERM")).toBe(0);
    const stopped = verifyJson<AdvisedJson>(d.db, d.publicKey);
    expect(stopped.code).toBe(0);
    expect(stopped.chains).toEqual([{ chain_id: "live", valid: true, count: 7, status: "interrupted", retries: 1 }]);
    expect(kinds(stopped)).toEqual([
      { kind: "events_dropped", chain_id: "live", receipts: 2, events: 5 },
      { kind: "retried_call", chain_id: "live", idempotency_key: "call-3", stage: "final", retries: 1 },
    ]);
  });
});

describe("--file: the same warnings", () => {
  test("an export without terminator, with drops and a retry", () => {
    const f = chainFixture(4, { frames: frames(["a", "b", "a"], { 3: 6 }) });
    const file = join(f.dir, "export.jsonl");
    writeFileSync(file, `${exportLines(f.db, f.chainId).join("\n")}\n`);
    const r = cli(["verify", "--file", file, "--public-key", f.keys.publicKey, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as AdvisedJson;
    expect(kinds(j)).toEqual([
      { kind: "no_terminator", chain_id: "test-chain", last_sequence: 5 },
      { kind: "events_dropped", chain_id: "test-chain", receipts: 1, events: 6 },
      { kind: "retried_call", chain_id: "test-chain", idempotency_key: "a", stage: "final", retries: 1 },
    ]);
  });
});

describe("nothing to verify", () => {
  test("a database with the schema and no receipts: one line, exit 0; --json says nothing_to_verify", () => {
    const dir = scratchDir("ar-e2e-empty-");
    const keys = writeKeyFiles(dir);
    const db = join(dir, "receipts.db");
    makeChainDb(db, keys.privateKeyPem, 0);
    const r = verifyDb(db, keys.publicKey);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`nothing to verify: database ${db} holds no receipts\n`);
    const j = verifyJson<AdvisedJson>(db, keys.publicKey);
    expect(j.code).toBe(0);
    expect(j).toMatchObject({ valid: true, nothing_to_verify: true, chains: [], warnings: [], retries: { count: 0, groups: [] } });
  });

  test.each([
    ["a zero-byte file", ""],
    ["a file of blank lines", "\n  \n\t\n\n"],
  ])("--file with %s: one line, exit 0, not 'not a receipts file'", (_name, content) => {
    const dir = scratchDir("ar-e2e-empty-");
    const keys = writeKeyFiles(dir);
    const file = join(dir, "empty.jsonl");
    writeFileSync(file, content);
    const r = cli(["verify", "--file", file, "--public-key", keys.publicKey]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`nothing to verify: file ${file} is empty (no line that is not blank)\n`);
    const j = cli(["verify", "--file", file, "--public-key", keys.publicKey, "--json"]);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ valid: true, nothing_to_verify: true, chains: [], warnings: [] });
  });

  test("blank lines around one line that is not a receipt: still 'not a receipts file', exit 2", () => {
    const dir = scratchDir("ar-e2e-empty-");
    const keys = writeKeyFiles(dir);
    const file = join(dir, "notes.jsonl");
    writeFileSync(file, "\n\nhello\n\n");
    const r = cli(["verify", "--file", file, "--public-key", keys.publicKey]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${file} is not a receipts file: none of its 1 lines is a receipt`);
  });

  test("--chain on an empty file or database is still an unknown chain (exit 2, one line)", () => {
    const dir = scratchDir("ar-e2e-empty-");
    const keys = writeKeyFiles(dir);
    const file = join(dir, "empty.jsonl");
    writeFileSync(file, "\n");
    const db = join(dir, "receipts.db");
    makeChainDb(db, keys.privateKeyPem, 0);
    for (const source of [["--file", file], ["--db", db]]) {
      const r = cli(["verify", ...source, "--public-key", keys.publicKey, "--chain", "c1"]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("c1");
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });
});
