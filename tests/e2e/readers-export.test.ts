// `agent-receipts export` through the compiled binary, and its round trip
// through `verify --file`: whole chains as they are, a time window as
// segments whose first link is not anchored, tampered exports rejected, and
// the --with-key folder an auditor verifies offline.
import { beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadPublicKey } from "../../src/keys/key-files.ts";
import { BINARY, frame, makeChainDb, writeKeyFiles, type KeyFiles } from "../helpers/fixtures.ts";
import { CHAIN, storedRows, type ReaderFixture, useReaderFixture } from "../helpers/reader-fixture.ts";
import { cli, scratchDir } from "../helpers/verify-run.ts";

let fx: ReaderFixture;

useReaderFixture((f) => {
  fx = f;
});

const lines = (text: string) => text.split("\n").filter((l) => l !== "");

describe("export of whole chains", () => {
  test("every receipt, stored text unchanged, chain after chain in sequence order; verify --file accepts it as is", () => {
    const out = join(scratchDir("ar-export-"), "all.jsonl");
    const r = cli(["export", "--db", fx.db, "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^exported \d+ receipts of 3 chain\(s\) to /);
    const rows = storedRows(fx.db);
    const exported = lines(readFileSync(out, "utf8"));
    expect([...exported].sort()).toEqual(rows.map((x) => x.json).sort());
    // Grouped by chain, each chain in sequence order.
    const order = exported.map((l) => JSON.parse(l) as { credentialSubject: { chain: { chain_id: string; sequence: number } } }).map((x) => x.credentialSubject.chain);
    for (let i = 1; i < order.length; i++) {
      if (order[i]!.chain_id === order[i - 1]!.chain_id) expect(order[i]!.sequence).toBe(order[i - 1]!.sequence + 1);
    }
    expect(new Set(order.map((c) => c.chain_id)).size).toBe(3);
    const v = cli(["verify", "--file", out, "--public-key", fx.publicKey]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(`VALID   chain ${CHAIN}  `);
    expect(v.stdout).toContain(`VALID   chain ${CHAIN}/agent/helper  `);
    expect(v.stdout).toContain(`VALID   chain ${CHAIN}-2  `);
    expect(v.stdout).not.toContain("segment");
    // stdout holds the same bytes as --out.
    expect(cli(["export", "--db", fx.db]).stdout).toBe(readFileSync(out, "utf8"));
  });

  test("one chain with --chain; a selection (--tool) carries a note that verify will see gaps", () => {
    const one = cli(["export", "--db", fx.db, "--chain", `${CHAIN}-2`]);
    expect(one.code).toBe(0);
    expect(lines(one.stdout)).toHaveLength(storedRows(fx.db).filter((x) => x.chainId === `${CHAIN}-2`).length);
    const picked = cli(["export", "--db", fx.db, "--tool", "Bash"]);
    expect(picked.code).toBe(0);
    expect(picked.stderr).toContain("note: --tool pick receipts out of their chains: verify --file reports the gaps between them as breaks.");
  });

  test("stdout closed early (export | head -1) ends with exit 0", () => {
    const r = spawnSync("bash", ["-c", `set -o pipefail; "${BINARY}" export --db "${fx.db}" | head -1 > /dev/null`], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
  });
});

describe("verify --file on a file of several chains", () => {
  test("--chain picks one of them; an unknown one is named with those the file holds", () => {
    const out = join(scratchDir("ar-export-pick-"), "all.jsonl");
    expect(cli(["export", "--db", fx.db, "--out", out]).code).toBe(0);
    const one = cli(["verify", "--file", out, "--public-key", fx.publicKey, "--chain", `${CHAIN}-2`]);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`^VALID   chain ${CHAIN}-2  \\d+ receipts`));
    expect(one.stdout).toContain("1 chain(s) verified");
    const none = cli(["verify", "--file", out, "--public-key", fx.publicKey, "--chain", "nope"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`holds chain ${CHAIN}, ${CHAIN}/agent/helper, ${CHAIN}-2, not nope`);
  });

  test("retries are found in every chain of the file, at the right sequences", () => {
    const dir = scratchDir("ar-export-retries-");
    const keys = writeKeyFiles(dir);
    const db = join(dir, "receipts.db");
    makeChainDb(db, keys.privateKeyPem, 5, { chainId: "first" });
    makeChainDb(db, keys.privateKeyPem, 6, { chainId: "second", frames: (i) => ({ ...frame(i), ...(i === 1 || i === 4 ? { idempotency_key: "call-7" } : {}) }) });
    const out = join(dir, "all.jsonl");
    expect(cli(["export", "--db", db, "--out", out]).code).toBe(0);
    const v = cli(["verify", "--file", out, "--public-key", keys.publicKey, "--json"]);
    expect(v.code).toBe(0);
    const report = JSON.parse(v.stdout) as { retries: { count: number; groups: Array<{ idempotency_key: string; stage: string; receipts: Array<{ chain_id: string; sequence: number }> }> } };
    expect(report.retries.count).toBe(1);
    expect(report.retries.groups).toEqual([{ idempotency_key: "call-7", stage: "final", receipts: [{ chain_id: "second", sequence: 2 }, { chain_id: "second", sequence: 5 }] }]);
  });
});

describe("export of a time window: segments", () => {
  let dir: string;
  let keys: KeyFiles;
  let db: string;
  const T0 = Date.parse("2026-11-20T10:00:00.000Z");
  const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();

  beforeAll(() => {
    dir = scratchDir("ar-export-window-");
    keys = writeKeyFiles(dir);
    db = join(dir, "receipts.db");
    // 20 receipts a minute apart, then a terminator (its clock reading is the 21st).
    let reading = 0;
    makeChainDb(db, keys.privateKeyPem, 20, { chainId: "w", terminate: true, clock: () => new Date(T0 + reading++ * 60_000) });
  });

  function exportWindow(...args: string[]): string {
    const out = join(dir, `window-${args.join("_").replace(/[^0-9a-z]/gi, "")}.jsonl`);
    const r = cli(["export", "--db", db, "--out", out, ...args]);
    expect(r.code).toBe(0);
    return out;
  }
  const sequences = (file: string) => lines(readFileSync(file, "utf8")).map((l) => (JSON.parse(l) as { credentialSubject: { chain: { sequence: number } } }).credentialSubject.chain.sequence);

  test("--since: from the first receipt inside the window; verify reports a segment whose first link is not anchored (exit 0)", () => {
    const out = exportWindow("--since", at(10));
    expect(sequences(out)).toEqual(Array.from({ length: 11 }, (_, i) => 11 + i));
    const v = cli(["verify", "--file", out, "--public-key", keys.publicKey]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain("VALID   chain w  11 receipts  status: interrupted");
    expect(v.stdout).toContain("segment starting at sequence 11: its first link is not anchored (sequence 10 is not in the file)");
    expect(v.stdout).not.toContain("BROKEN");
    const json = JSON.parse(cli(["verify", "--file", out, "--public-key", keys.publicKey, "--json"]).stdout) as { valid: boolean; chains: Array<{ segment?: unknown }> };
    expect(json.valid).toBe(true);
    expect(json.chains[0]!.segment).toEqual({ first_sequence: 11, first_link_anchored: false });
  });

  test("a window in the middle, and one from the start (not a segment)", () => {
    const middle = exportWindow("--since", at(5), "--until", at(14));
    expect(sequences(middle)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14]);
    const v = cli(["verify", "--file", middle, "--public-key", keys.publicKey]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain("segment starting at sequence 6");
    const start = exportWindow("--until", at(3));
    expect(sequences(start)).toEqual([1, 2, 3]);
    const s = cli(["verify", "--file", start, "--public-key", keys.publicKey]);
    expect(s.code).toBe(0);
    expect(s.stdout).not.toContain("segment");
  });

  test("inside a segment everything is still checked: a missing receipt or an altered one is a broken chain (exit 1)", () => {
    const out = exportWindow("--since", at(10));
    const original = lines(readFileSync(out, "utf8"));
    const gap = join(dir, "gap.jsonl");
    writeFileSync(gap, `${[...original.slice(0, 3), ...original.slice(4)].join("\n")}\n`);
    const g = cli(["verify", "--file", gap, "--public-key", keys.publicKey]);
    expect(g.code).toBe(1);
    expect(g.stdout).toMatch(/BROKEN  chain w .*\n  segment starting at sequence 11.*\n  break at index 3 \(sequence 15, .*broken hash link/);
    const altered = join(dir, "altered.jsonl");
    writeFileSync(altered, `${original.map((l, i) => (i === 5 ? l.replace('"tool_name":"read_file"', '"tool_name":"rm_rf"') : l)).join("\n")}\n`);
    const a = cli(["verify", "--file", altered, "--public-key", keys.publicKey]);
    expect(a.code).toBe(1);
    expect(a.stdout).toContain("bad signature");
  });

  test("a database is never a segment: its chain must start at sequence 1", () => {
    const copy = join(dir, "cut.db");
    const src = readFileSync(db);
    writeFileSync(copy, src);
    const conn = new Database(copy);
    conn.run("DELETE FROM receipts WHERE sequence <= 10");
    conn.close();
    const v = cli(["verify", "--db", copy, "--public-key", keys.publicKey]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain("BROKEN");
    expect(v.stdout).not.toContain("segment");
  });
});

describe("tampered exports fail verification", () => {
  function exported(): { file: string; text: string[] } {
    const file = join(scratchDir("ar-export-tamper-"), "all.jsonl");
    expect(cli(["export", "--db", fx.db, "--out", file]).code).toBe(0);
    return { file, text: lines(readFileSync(file, "utf8")) };
  }

  test("an altered receipt", () => {
    const { file, text } = exported();
    writeFileSync(file, `${text.map((l, i) => (i === 2 ? l.replace('"tool_name":"Bash"', '"tool_name":"Read"') : l)).join("\n")}\n`);
    expect(text[2]).toContain('"tool_name":"Bash"');
    const v = cli(["verify", "--file", file, "--public-key", fx.publicKey]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain("bad signature");
  });

  test("a receipt removed from the middle of a chain", () => {
    const { file, text } = exported();
    writeFileSync(file, `${[...text.slice(0, 3), ...text.slice(4)].join("\n")}\n`);
    const v = cli(["verify", "--file", file, "--public-key", fx.publicKey]);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/BROKEN  chain rd .*\n  break at index 3 .*broken hash link/);
  });

  test("a chain's receipts split around another chain (the second part cannot pass as a segment)", () => {
    const { file, text } = exported();
    const chainOf = (l: string) => (JSON.parse(l) as { credentialSubject: { chain: { chain_id: string } } }).credentialSubject.chain.chain_id;
    const first = text.filter((l) => chainOf(l) === chainOf(text[0]!));
    const rest = text.filter((l) => chainOf(l) !== chainOf(text[0]!));
    writeFileSync(file, `${[...first.slice(0, 4), ...rest, ...first.slice(4)].join("\n")}\n`);
    const v = cli(["verify", "--file", file, "--public-key", fx.publicKey]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain("chain id mismatch");
  });
});

describe("export --with-key: a folder that verifies offline", () => {
  test("receipts.jsonl, the public key and a manifest with chains, ranges, count, SHA-256 and fingerprint", () => {
    const bundle = join(scratchDir("ar-bundle-"), "audit");
    const r = cli(["export", "--db", fx.db, "--public-key", fx.publicKey, "--with-key", bundle]);
    expect(r.code).toBe(0);
    // The daemon that wrote the fixture signed checkpoints: the transparency log's evidence comes along (issue 12).
    expect(readdirSync(bundle).sort()).toEqual(["log.checkpoint", "log.proofs", "log.vkey", "manifest.json", "receipts.jsonl", "signing.key.pub"]);
    const data = readFileSync(join(bundle, "receipts.jsonl"));
    const manifest = JSON.parse(readFileSync(join(bundle, "manifest.json"), "utf8")) as Record<string, unknown> & {
      chains: Array<{ chain_id: string; first_sequence: number; last_sequence: number; receipts: number; segment: boolean; ends_with_terminator: boolean }>;
    };
    const rows = storedRows(fx.db);
    expect(manifest).toMatchObject({
      format: "agent-receipts-export/1", receipts_file: "receipts.jsonl", receipts: rows.length, bytes: data.length,
      sha256: createHash("sha256").update(data).digest("hex"), public_key_file: "signing.key.pub",
      key_fingerprint: loadPublicKey(fx.publicKey).fingerprint,
      verify: "agent-receipts verify --file receipts.jsonl --public-key signing.key.pub --proofs log.proofs --checkpoint log.checkpoint",
    });
    expect(manifest.chains.map((c) => c.chain_id).sort()).toEqual([CHAIN, `${CHAIN}-2`, `${CHAIN}/agent/helper`]);
    const root = manifest.chains.find((c) => c.chain_id === CHAIN)!;
    const rootRows = rows.filter((x) => x.chainId === CHAIN);
    expect(root).toEqual({ chain_id: CHAIN, first_sequence: 1, last_sequence: rootRows.length, receipts: rootRows.length, segment: false, ends_with_terminator: true });
    expect(readFileSync(join(bundle, "signing.key.pub"), "utf8")).toBe(loadPublicKey(fx.publicKey).pem);
    // The auditor, in the folder, with nothing else.
    const v = spawnSync(BINARY, (manifest.verify as string).split(" ").slice(1), { cwd: bundle, encoding: "utf8", env: { PATH: process.env.PATH, HOME: bundle } });
    expect(v.status).toBe(0);
    expect(v.stdout).toContain("3 chain(s) verified");
    const log = manifest.log as { proven: number; after_checkpoint: number };
    expect(log.proven + log.after_checkpoint).toBe(rows.length);
    expect(v.stdout).toContain(`log: ${log.proven} of ${rows.length} receipt(s) proven to be in checkpoint`);
  });

  test("refused before writing: a key that does not verify the receipts, a folder that is not empty, --out with it", () => {
    const base = scratchDir("ar-bundle-bad-");
    const other = writeKeyFiles(base, "other.key");
    const wrong = cli(["export", "--db", fx.db, "--public-key", other.publicKey, "--with-key", join(base, "a")]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/the public key .*other\.key\.pub \(sha256:[0-9a-f]{64}\) does not verify receipt urn:receipt:/);
    expect(readdirSync(base).sort()).toEqual(["other.key", "other.key.pub"]);
    mkdirSync(join(base, "full"));
    writeFileSync(join(base, "full", "x"), "x");
    const full = cli(["export", "--db", fx.db, "--public-key", fx.publicKey, "--with-key", join(base, "full")]);
    expect(full.code).toBe(2);
    expect(full.stderr).toMatch(/--with-key .*full is not empty/);
    const both = cli(["export", "--db", fx.db, "--public-key", fx.publicKey, "--with-key", join(base, "b"), "--out", join(base, "x.jsonl")]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--with-key writes receipts\.jsonl into its folder; leave out --out/);
    const noKey = cli(["export", "--db", fx.db, "--public-key", join(base, "none.pub"), "--with-key", join(base, "c")]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/none\.pub does not exist/);
  });
});

describe("export: bad input exits 2", () => {
  test("--out onto the database itself, an unwritable target, a bad time", () => {
    const onto = cli(["export", "--db", fx.db, "--out", fx.db]);
    expect(onto.code).toBe(2);
    expect(onto.stderr).toMatch(/is the database being exported/);
    expect(storedRows(fx.db).length).toBeGreaterThan(0);
    const nowhere = cli(["export", "--db", fx.db, "--out", join(fx.dir, "no", "such", "dir", "x.jsonl")]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(/cannot write .*x\.jsonl: /);
    const time = cli(["export", "--db", fx.db, "--since", "last tuesday"]);
    expect(time.code).toBe(2);
    expect(time.stderr).toMatch(/--since "last tuesday" is not a time/);
  });
});
