// `agent-receipts list` through the compiled binary, on a database the
// compiled daemon wrote: each filter against the known set of receipts (the
// same rule applied to every stored row), the formats, bad input, and reading
// with the daemon stopped without creating any file.
import { beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { CHAIN, storedRows, type ReaderFixture, useReaderFixture, type StoredRow } from "../helpers/reader-fixture.ts";
import { writeKeyFiles } from "../helpers/fixtures.ts";
import { cli, scratchDir } from "../helpers/verify-run.ts";

let fx: ReaderFixture;
let rows: StoredRow[];

useReaderFixture((f) => {
  fx = f;
  rows = storedRows(f.db);
});

function list(...args: string[]) {
  return cli(["list", "--db", fx.db, ...args]);
}

/** The ids `list --jsonl` prints, in order. */
function listed(...args: string[]): string[] {
  const r = list("--jsonl", "--limit", "1000", ...args);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout.split("\n").filter((l) => l !== "").map((l) => (JSON.parse(l) as { id: string }).id);
}

/** What a filter must select: the rows the rule accepts, newest first. */
function want(rule: (r: StoredRow) => boolean): string[] {
  return rows.filter(rule).map((r) => r.id).reverse();
}

const action = (r: StoredRow) => r.receipt.credentialSubject.action;

describe("list: each filter selects exactly the receipts it names", () => {
  test("the fixture has what the filters need", () => {
    const chains = new Set(rows.map((r) => r.chainId));
    expect([...chains].sort()).toEqual([CHAIN, `${CHAIN}-2`, `${CHAIN}/agent/helper`]);
    expect(rows.some((r) => r.receipt.credentialSubject.chain.terminal === true)).toBe(true);
    expect(rows.some((r) => action(r).type === "agent_receipts.events_dropped")).toBe(true);
  });

  const cases: Array<[string, string[], (r: StoredRow) => boolean]> = [
    ["no filter", [], () => true],
    ["--chain", ["--chain", CHAIN], (r) => r.chainId === CHAIN],
    ["--chain (continuation)", ["--chain", `${CHAIN}-2`], (r) => r.chainId === `${CHAIN}-2`],
    ["--agent", ["--agent", "helper"], (r) => r.chainId === `${CHAIN}/agent/helper`],
    ["--session", ["--session", "sA"], (r) => r.receipt.issuer.session_id === "sA"],
    ["--channel", ["--channel", "claude-code"], (r) => action(r).type.startsWith("claude-code.")],
    ["--tool", ["--tool", "Bash"], (r) => action(r).tool_name === "Bash"],
    ["--tool GLOB", ["--tool", "mcp__*"], (r) => action(r).tool_name.startsWith("mcp__")],
    ["--type GLOB", ["--type", "sdk.*"], (r) => action(r).type.startsWith("sdk.")],
    ["--risk", ["--risk", "medium"], (r) => ["medium", "high", "critical"].includes(action(r).risk_level)],
    ["--status failure", ["--status", "failure"], (r) => r.receipt.credentialSubject.outcome.status === "failure"],
    ["--status pending", ["--status", "pending"], (r) => r.receipt.credentialSubject.outcome.status === "pending"],
    ["--uid", ["--uid", String(process.getuid?.() ?? 0)], (r) => action(r).peer_credential?.uid === (process.getuid?.() ?? 0)],
    ["--uid (nobody's)", ["--uid", "4242"], () => false],
  ];
  for (const [name, args, rule] of cases) {
    test(name, () => {
      const expected = want(rule);
      expect(listed(...args)).toEqual(expected);
    });
  }

  test("--exe: a base name, and a GLOB on the whole path", () => {
    const base = basename(fx.exes.node);
    expect(listed("--exe", base)).toEqual(want((r) => action(r).peer_credential?.exe_path === fx.exes.node));
    expect(listed("--exe", `${fx.exes.bun.slice(0, fx.exes.bun.lastIndexOf("/"))}/*`)).toEqual(want((r) => action(r).peer_credential?.exe_path === fx.exes.bun));
  });

  test("--since and --until around the daemon restart", () => {
    const after = want((r) => r.receipt.issuanceDate >= fx.between);
    const before = want((r) => r.receipt.issuanceDate < fx.between);
    expect(after.length).toBeGreaterThan(0);
    expect(before.length).toBeGreaterThan(0);
    expect(listed("--since", fx.between)).toEqual(after);
    expect(listed("--until", fx.between)).toEqual(before);
    expect(listed("--since", "1h")).toEqual(want(() => true));
  });

  test("filters combine", () => {
    expect(listed("--session", "sA", "--tool", "Bash", "--status", "failure")).toEqual(
      want((r) => r.receipt.issuer.session_id === "sA" && action(r).tool_name === "Bash" && r.receipt.credentialSubject.outcome.status === "failure"),
    );
    expect(listed("--chain", CHAIN, "--channel", "claude-code", "--until", fx.between)).toEqual(
      want((r) => r.chainId === CHAIN && action(r).type.startsWith("claude-code.")),
    );
  });

  test("--limit and --reverse: the newest N, or the oldest N oldest first", () => {
    const all = want(() => true);
    const ids = (...args: string[]) => list("--jsonl", ...args).stdout.trim().split("\n").map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids("--limit", "3")).toEqual(all.slice(0, 3));
    expect(ids()).toEqual(all.slice(0, 50));
    expect(ids("--reverse", "--limit", "2")).toEqual([...all].reverse().slice(0, 2));
  });
});

describe("list: output", () => {
  test("--jsonl prints the stored JSON unchanged; --json one array of it", () => {
    const r = list("--jsonl", "--limit", "2");
    expect(r.stdout).toBe(`${rows[rows.length - 1]!.json}\n${rows[rows.length - 2]!.json}\n`);
    const arr = JSON.parse(list("--json", "--limit", "2").stdout) as Array<{ id: string }>;
    expect(arr.map((x) => x.id)).toEqual([rows[rows.length - 1]!.id, rows[rows.length - 2]!.id]);
  });

  test("the table fits 80 columns when not a terminal, names the chain when there are several, and has no colour", () => {
    const r = list();
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^SEQ\s+TIME\s+RISK\s+STATUS\s+TYPE\s+TOOL/);
    expect(lines[0]).toContain("CHAIN");
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(r.stdout).not.toContain("\x1b[");
    expect(lines.length).toBe(rows.length + 1);
    const one = list("--chain", `${CHAIN}-2`).stdout.split("\n")[0]!;
    expect(one).not.toContain("CHAIN");
  });

  test("an empty result is not an error", () => {
    for (const args of [["--tool", "no-such-tool"], ["--since", "2099-01-01"]]) {
      const r = list(...args);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: "", stderr: "" });
    }
    expect(list("--json", "--tool", "none").stdout).toBe("[]\n");
  });
});

describe("list: bad input exits 2 with one line naming the problem", () => {
  const bad: Array<[string[], RegExp]> = [
    [["--since", "yesterdayy"], /--since "yesterdayy" is not a time: give RFC 3339/],
    [["--until", "2026-02-30"], /--until "2026-02-30" is not a time/],
    [["--since", "2026-11-29", "--until", "2026-11-28"], /is not before --until/],
    [["--limit", "0"], /--limit takes a whole number of at least 1, not "0"/],
    [["--limit", "ten"], /--limit takes a whole number/],
    [["--risk", "extreme"], /--risk must be one of low, medium, high, critical/],
    [["--status", "ok"], /--status must be one of success, failure, pending/],
    [["--json", "--jsonl"], /--json and --jsonl are exclusive/],
    [["--chain", "nope"], /no chain "nope" in .*chains: /],
    [["--agent", "nobody"], /no sub-agent chain of agent "nobody"/],
    [["--uid", "no-such-user-xyz"], /--uid "no-such-user-xyz" is neither a numeric uid nor a login/],
    [["--tool", ""], /--tool is empty/],
  ];
  for (const [args, message] of bad) {
    test(args.join(" "), () => {
      const r = list(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    });
  }

  test("a missing database, a file that is not one, and a directory", () => {
    const missing = cli(["list", "--db", join(fx.dir, "nope.db")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/database .*nope\.db does not exist\. Pass --db PATH/);
    const text = join(fx.dir, "notes.txt");
    writeFileSync(text, "not a database\n".repeat(100));
    const notDb = cli(["list", "--db", text]);
    expect(notDb.code).toBe(2);
    expect(notDb.stderr).toMatch(/notes\.txt is not an SQLite database/);
    const dirArg = cli(["list", "--db", fx.dir]);
    expect(dirArg.code).toBe(2);
    expect(dirArg.stderr).toMatch(/is not a regular file/);
    for (const r of [missing, notDb, dirArg]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

/** A consistent copy of the fixture's database (the daemon's WAL folded in), for tampering without touching the fixture. */
function copyOfDb(): string {
  const db = join(scratchDir("ar-list-verify-"), "receipts.db");
  const conn = new Database(fx.db, { readonly: true });
  try {
    conn.run(`VACUUM INTO '${db}'`);
  } finally {
    conn.close();
  }
  return db;
}

/** Changes a field inside one stored receipt's JSON (not its index columns), as someone with write access would. */
function tamper(db: string, chain: string, sequence: number): void {
  const conn = new Database(db);
  try {
    conn.query("UPDATE receipts SET receipt_json = json_set(receipt_json, '$.credentialSubject.action.tool_name', 'rm') WHERE chain_id = ? AND sequence = ?").run(chain, sequence);
  } finally {
    conn.close();
  }
}

/** The table's rows as [SEQ, SIG] (the header first). */
const seqSig = (stdout: string) => stdout.trimEnd().split("\n").map((l) => l.trim().split(/\s+/).slice(0, 2));

describe("list --verify and --public-key: each receipt's signature", () => {
  let tampered: string;
  let tamperedRows: StoredRow[];
  let target: StoredRow;

  beforeAll(() => {
    tampered = copyOfDb();
    tamper(tampered, CHAIN, 3);
    tamperedRows = storedRows(tampered);
    target = tamperedRows.find((r) => r.chainId === CHAIN && r.sequence === 3)!;
  });

  test("all valid: a SIG column of ok after SEQ, within 80 columns, exit 0; the same with --verify and the key from the config", () => {
    const r = list("--public-key", fx.publicKey, "--limit", "1000");
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^SEQ\s+SIG\s+TIME\s+RISK\s+STATUS\s+TYPE\s+TOOL/);
    expect(lines).toHaveLength(rows.length + 1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(seqSig(r.stdout).slice(1).map((c) => c[1])).toEqual(rows.map(() => "ok"));
    const config = join(scratchDir("ar-list-config-"), "daemon.toml");
    writeFileSync(config, `public_key = "${fx.publicKey}"\n`);
    const viaConfig = list("--verify", "--config", config, "--limit", "1000");
    expect(viaConfig.code).toBe(0);
    expect(viaConfig.stdout).toBe(r.stdout);
  });

  test("--jsonl and --json with a valid key: the stored JSON unchanged, nothing on stderr, exit 0", () => {
    const r = list("--public-key", fx.publicKey, "--jsonl", "--limit", "2");
    expect(r).toEqual({ code: 0, stdout: `${rows[rows.length - 1]!.json}\n${rows[rows.length - 2]!.json}\n`, stderr: "" });
    expect(list("--verify", "--public-key", fx.publicKey, "--json").code).toBe(0);
  });

  test("a receipt altered inside its stored JSON: BAD on its row only, exit 1", () => {
    const r = cli(["list", "--db", tampered, "--public-key", fx.publicKey, "--chain", CHAIN]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const cells = seqSig(r.stdout);
    expect(cells[0]).toEqual(["SEQ", "SIG"]);
    const inChain = tamperedRows.filter((x) => x.chainId === CHAIN).reverse();
    expect(cells.slice(1)).toEqual(inChain.map((x) => [String(x.sequence), x.sequence === 3 ? "BAD" : "ok"]));
    // Every chain, several chains in the table: still one BAD row.
    const all = cli(["list", "--db", tampered, "--verify", "--public-key", fx.publicKey, "--limit", "1000"]);
    expect(all.code).toBe(1);
    expect(seqSig(all.stdout).slice(1).filter((c) => c[1] === "BAD")).toEqual([["3", "BAD"]]);
  });

  test("a receipt altered inside its stored JSON, --jsonl and --json: stdout is the stored text unchanged, stderr one line naming it, exit 1", () => {
    const r = cli(["list", "--db", tampered, "--public-key", fx.publicKey, "--jsonl", "--limit", "1000"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe([...tamperedRows].reverse().map((x) => `${x.json}\n`).join(""));
    expect(r.stdout).toContain(`${target.json}\n`);
    expect(target.json).toContain('"tool_name":"rm"');
    const err = r.stderr.trimEnd().split("\n");
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(new RegExp(`^agent-receipts: BAD signature: chain ${CHAIN}, sequence 3, ${target.id}: does not verify under key sha256:[0-9a-f]{64} \\(`));
    const json = cli(["list", "--db", tampered, "--public-key", fx.publicKey, "--json", "--limit", "1000"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual([...tamperedRows].reverse().map((x) => JSON.parse(x.json) as unknown));
    expect(json.stderr).toBe(r.stderr);
  });

  test("another key: every row BAD, exit 1; every receipt named on stderr with --jsonl", () => {
    const other = writeKeyFiles(scratchDir("ar-list-other-")).publicKey;
    const r = list("--public-key", other, "--limit", "1000");
    expect(r.code).toBe(1);
    expect(seqSig(r.stdout).slice(1).map((c) => c[1])).toEqual(rows.map(() => "BAD"));
    const jsonl = list("--public-key", other, "--jsonl", "--limit", "5");
    expect(jsonl.code).toBe(1);
    expect(jsonl.stdout.trimEnd().split("\n")).toHaveLength(5);
    expect(jsonl.stderr.trimEnd().split("\n")).toEqual(
      rows.slice(-5).reverse().map((x) => expect.stringContaining(`BAD signature: chain ${x.chainId}, sequence ${x.sequence}, ${x.id}: does not verify`)),
    );
  });

  test("a key that cannot be read: exit 2, one line naming the path and the fix, nothing printed", () => {
    const dir = scratchDir("ar-list-badkey-");
    const junk = join(dir, "junk.pub");
    writeFileSync(junk, "not a key\n");
    const cases: Array<[string[], RegExp]> = [
      [["--public-key", join(dir, "nope.pub")], /cannot check signatures: public key .*nope\.pub does not exist\. Pass --public-key PATH/],
      [["--verify", "--public-key", join(dir, "nope.pub"), "--jsonl"], /public key .*nope\.pub does not exist/],
      [["--public-key", junk], /cannot check signatures: public key .*junk\.pub is not an Ed25519 SPKI PEM: .*Pass --public-key PATH with the daemon's public key/],
      [["--public-key", dir], /public key .*ar-list-badkey-\S* is not a regular file\. Pass --public-key PATH/],
      // --verify alone, and no key anywhere (a clean home, no config): the default path is named.
      [["--verify"], /cannot check signatures: public key \/\S+\.pub does not exist\. Pass --public-key PATH/],
    ];
    for (const [args, message] of cases) {
      const r = list(...args);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: "" });
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    }
  });

  test("without --verify or --public-key: no SIG column and no key read (its default path does not exist), exit 0 even on the altered database", () => {
    expect(list("--verify").code).toBe(2); // the default key does not exist here...
    const r = list("--limit", "1000"); // ...and without the flag it is never looked for
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout.split("\n")[0]).not.toContain("SIG");
    expect(r.stdout.split("\n")[0]).toMatch(/^SEQ\s+TIME\s+RISK/);
    const t = cli(["list", "--db", tampered, "--jsonl", "--limit", "1000"]);
    expect({ code: t.code, stderr: t.stderr }).toEqual({ code: 0, stderr: "" });
    expect(t.stdout).toContain(`${target.json}\n`);
    expect(cli(["list", "--db", tampered]).stdout).not.toContain("BAD");
  });
});

describe("list with the daemon stopped", () => {
  const dbFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith("receipts.db")).sort();

  test("the same receipts and the terminators, and no file created", async () => {
    const running = listed();
    expect(await fx.daemon.stop()).toBe(0);
    const files = dbFiles(fx.dir);
    const stopped = listed();
    // The clean stop wrote a terminator: it is the newest receipt now.
    expect(stopped.slice(1)).toEqual(running);
    expect(rowsAfterStop().at(-1)!.receipt.credentialSubject.chain.terminal).toBe(true);
    expect(cli(["list", "--db", fx.db, "--tool", "Bash", "--since", "1h"]).code).toBe(0);
    expect(dbFiles(fx.dir)).toEqual(files);
  });

  test("a copy of the database file alone (a backup: no -wal, no -shm) is read without creating either", () => {
    const copy = join(fx.dir, "backup");
    mkdirSync(copy);
    copyFileSync(fx.db, join(copy, "receipts.db"));
    const r = cli(["list", "--db", join(copy, "receipts.db"), "--jsonl", "--limit", "1000"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(rowsAfterStop().length);
    expect(cli(["list", "--db", join(copy, "receipts.db"), "--session", "sA", "--since", "1d"]).code).toBe(0);
    expect(dbFiles(copy)).toEqual(["receipts.db"]);
  });
});

function rowsAfterStop(): StoredRow[] {
  return storedRows(fx.db);
}
