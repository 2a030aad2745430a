// The log's commands at their edges, through the compiled binary: one line
// naming the problem and the fix, exit 2 for usage, 1 for a negative result,
// never a stack trace.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, makeChainDb, tempDir, writeKeyFiles } from "../helpers/fixtures.ts";
import { daemonTracker, runCli } from "../daemon/support.ts";
import type { DaemonHandle } from "../helpers/daemon.ts";

const daemons = daemonTracker();
afterAll(() => daemons.stopAll());

function oneLine(r: { stderr: string; stdout: string }): void {
  expect(r.stderr.split("\n").filter((l) => l !== "")).toHaveLength(1);
  expect(r.stderr).not.toContain("    at ");
}

let d: DaemonHandle;
let dir: string;

beforeAll(async () => {
  dir = tempDir("ar-tlog-cli-");
  const config = join(dir, "daemon.toml");
  writeFileSync(config, 'checkpoint_every = 1000\ncheckpoint_interval = "1h"\n');
  d = await daemons.start({ dir, args: ["--config", config, "--chain-id", "cli"] });
  const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify({ tool: { name: "Read" }, decision: "allowed", input: { i } })).join("\n");
  const r = spawnSync(BINARY, ["emit", "--stdin", "--socket", d.socket], { input: `${lines}\n`, encoding: "utf8" });
  expect(r.status).toBe(0);
});

describe("checkpoint and prove", () => {
  test("before any checkpoint covers a receipt: checkpoint and prove say when one comes (exit 1)", () => {
    // The daemon runs with an hour's interval and 1,000 per checkpoint: the 5 receipts are not covered yet.
    const c = runCli(["checkpoint", "--db", d.db]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain("has no checkpoint yet");
    oneLine(c);
    const p = runCli(["prove", "cli:2", "--db", d.db]);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/is leaf 1, after the newest checkpoint \(none yet\).*run prove again/);
    oneLine(p);
  });

  test("after the stop's checkpoint: prove works; unknown receipts and bad refs are usage errors", async () => {
    expect(await d.stop()).toBe(0);
    expect(runCli(["prove", "cli:2", "--db", d.db]).code).toBe(0);
    const unknown = runCli(["prove", "cli:99", "--db", d.db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("has no receipt with sequence 99");
    oneLine(unknown);
    const bad = runCli(["prove", "not a ref", "--db", d.db]);
    expect(bad.code).toBe(2);
    oneLine(bad);
    const unwritable = runCli(["prove", "cli:2", "--db", d.db, "--out", join(dir, "no", "such", "dir", "p")]);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toContain("cannot write");
  });

  test("a database from before the log: checkpoint and prove say how to get one (exit 2)", () => {
    const old = tempDir("ar-tlog-cli-old-");
    const keys = writeKeyFiles(old);
    const db = join(old, "receipts.db");
    makeChainDb(db, keys.privateKeyPem, 3, { chainId: "old" });
    const conn = new Database(db);
    for (const t of ["tlog_tiles", "tlog_runs", "tlog_checkpoints", "tlog_cosignatures"]) conn.run(`DROP TABLE ${t}`);
    conn.close();
    for (const args of [["checkpoint"], ["prove", "old:1"]]) {
      const r = runCli([...args, "--db", db]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("has no transparency log yet");
      oneLine(r);
    }
    // verify still verifies it, saying what it cannot show.
    const v = runCli(["verify", "--db", db, "--public-key", keys.publicKey]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain("this database has no transparency log");
  });
});

describe("verify's log flags", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["--receipt without --proof", ["--receipt", "r.json"], /--receipt and --proof go together/],
    ["--receipt with --db", ["--receipt", "r.json", "--proof", "p", "--db", "x.db"], /leave out --db/],
    ["--quorum without --witness", ["--quorum", "1"], /--quorum needs --witness/],
    ["--quorum above the witnesses", ["--quorum", "2", "--witness", "w.test/w+01020304+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"], /--witness .*key id|--quorum must be/],
    ["--proofs without --file", ["--proofs", "log.proofs"], /--proofs goes with --file and --checkpoint/],
    ["--checkpoint with --file and no --proofs", ["--file", "x.jsonl", "--checkpoint", "c"], /a --file has no log of its own/],
    ["a witness vkey that is not one", ["--witness", "nonsense"], /--witness "nonsense": not a note verifier key/],
  ];
  test.each(cases)("%s: exit 2, one line", (_what, args, message) => {
    const r = runCli(["verify", "--public-key", d.publicKey, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    oneLine(r);
  });

  test("--checkpoint: a missing file, and a file without a note, are usage errors", () => {
    const missing = runCli(["verify", "--db", d.db, "--public-key", d.publicKey, "--checkpoint", join(dir, "nope")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("does not exist");
    const empty = join(dir, "empty-note");
    writeFileSync(empty, "just text\n");
    const r = runCli(["verify", "--db", d.db, "--public-key", d.publicKey, "--checkpoint", empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("holds no signed note");
    oneLine(r);
  });

  test("a checkpoint signed by another key is BAD SIGNATURE (exit 1), not trusted", () => {
    const other = tempDir("ar-tlog-cli-other-");
    const c = runCli(["checkpoint", "--db", d.db]);
    const forged = join(other, "forged");
    // The note's body with a signature line by someone else under the same name.
    writeFileSync(forged, c.stdout.replace(/\u2014 (\S+) \S+/, (_m, name: string) => `\u2014 ${name} AAAAAA${"B".repeat(86)}`));
    const r = runCli(["verify", "--db", d.db, "--public-key", d.publicKey, "--checkpoint", forged]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("BAD SIGNATURE");
  });
});
