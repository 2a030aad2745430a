// `agent-receipts tail` through the compiled binary against the compiled
// daemon: the newest receipts, then -f printing every receipt committed
// after it started — across a daemon restart and the chain advance it brings
// (X -> X-2), through a WAL checkpoint, for a chain that appears later —
// and ending with exit 0 on SIGINT, SIGTERM and a closed pipe.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { killSenders } from "../daemon/support.ts";
import { startDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { BINARY, makeChainDb, writeKeyFiles } from "../helpers/fixtures.ts";
import { CHAIN, makeReaderFixture, storedRows, type ReaderFixture, type StoredRow } from "../helpers/reader-fixture.ts";
import { cli, removeTempDirs, scratchDir } from "../helpers/verify-run.ts";

let fx: ReaderFixture;
let daemon: DaemonHandle;
const followers: ChildProcess[] = [];

beforeAll(async () => {
  fx = await makeReaderFixture();
  daemon = fx.daemon;
}, 60_000);

afterAll(async () => {
  killSenders();
  for (const p of followers) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  await daemon?.stop();
  if (fx) rmSync(fx.dir, { recursive: true, force: true });
  removeTempDirs();
});

interface Follower {
  proc: ChildProcess;
  lines(): string[];
  stderr(): string;
  exited: Promise<number | string>;
  /** Waits until at least `n` lines have been printed. */
  waitFor(n: number, timeoutMs?: number): Promise<string[]>;
}

function follow(...args: string[]): Follower {
  return followDb(fx.db, ...args);
}

function followDb(db: string, ...args: string[]): Follower {
  const proc = spawn(BINARY, ["tail", "-f", "--db", db, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  followers.push(proc);
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => proc.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const lines = () => out.split("\n").filter((l) => l !== "");
  return {
    proc, lines, stderr: () => err, exited,
    async waitFor(n, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (lines().length < n) {
        if (Date.now() > deadline) throw new Error(`tail printed ${lines().length} lines, not ${n}:\n${out}\nstderr: ${err}`);
        if (proc.exitCode !== null) throw new Error(`tail exited ${proc.exitCode}: ${err}`);
        await Bun.sleep(20);
      }
      return lines();
    },
  };
}

function emit(tool: string, extra: Record<string, string> = {}): void {
  const line = JSON.stringify({ tool: { name: tool }, decision: "allowed", ...extra });
  const r = spawnSync(BINARY, ["emit", "--socket", daemon.socket, "--stdin"], { input: `${line}\n`, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`emit failed (${r.status}): ${r.stderr}`);
}

const chainOf = (l: string) => (JSON.parse(l) as { credentialSubject: { chain: { chain_id: string; sequence: number } } }).credentialSubject.chain;
const toolOf = (l: string) => (JSON.parse(l) as { credentialSubject: { action: { tool_name: string } } }).credentialSubject.action.tool_name;

describe("tail without -f", () => {
  test("-n N: the newest N, oldest of them first; the stored JSON with --jsonl", () => {
    const rows = storedRows(fx.db);
    const r = cli(["tail", "-n", "3", "--jsonl", "--db", fx.db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(rows.slice(-3).map((x) => `${x.json}\n`).join(""));
    const table = cli(["tail", "--db", fx.db]).stdout.trimEnd().split("\n");
    expect(table[0]).toMatch(/^SEQ\s+TIME/);
    expect(table).toHaveLength(1 + Math.min(10, rows.length));
  });

  test("bad input exits 2", () => {
    const json = cli(["tail", "-f", "--json", "--db", fx.db]);
    expect(json.code).toBe(2);
    expect(json.stderr).toMatch(/--json prints one array and cannot follow: use --jsonl with --follow/);
    const n = cli(["tail", "-n", "-1", "--db", fx.db]);
    expect(n.code).toBe(2);
    expect(n.stderr).toMatch(/-n takes a whole number, not "-1"/);
    const chain = cli(["tail", "--chain", "nope", "--db", fx.db]);
    expect(chain.code).toBe(2);
    expect(chain.stderr).toMatch(/no chain "nope"/);
  });
});

describe("tail -f", () => {
  test("prints each receipt committed after it started, and only those", async () => {
    const t = follow("-n", "0", "--jsonl");
    await Bun.sleep(300);
    expect(t.lines()).toEqual([]);
    emit("first_after_start");
    emit("second_after_start");
    const got = await t.waitFor(2);
    expect(got.map(toolOf)).toEqual(["first_after_start", "second_after_start"]);
    t.proc.kill("SIGINT");
    expect(await t.exited).toBe(0);
  });

  test("keeps following across a daemon restart (the chain advances, rd-2 -> rd-3), a WAL checkpoint and a new sub-agent chain", async () => {
    const t = follow("-n", "1", "--jsonl");
    await t.waitFor(1);
    // A clean stop: the daemon writes a terminator on its chain, which tail prints.
    expect(await daemon.stop()).toBe(0);
    const afterStop = await t.waitFor(2);
    expect(chainOf(afterStop[1]!)).toMatchObject({ chain_id: `${CHAIN}-2`, terminal: true });
    // Started again: the terminated chain is not extended; the daemon moves on to rd-3.
    daemon = await startDaemon({ dir: fx.dir, args: ["--chain-id", CHAIN] });
    emit("after_restart");
    const afterRestart = await t.waitFor(3);
    expect(chainOf(afterRestart[2]!).chain_id).toBe(`${CHAIN}-3`);
    expect(toolOf(afterRestart[2]!)).toBe("after_restart");
    // Someone folds the WAL into the database while both run.
    const conn = new Database(fx.db);
    const cp = conn.query<{ busy: number }, []>("PRAGMA wal_checkpoint(TRUNCATE)").get();
    conn.close();
    expect(cp?.busy).toBe(0);
    emit("after_checkpoint");
    emit("helper_call", { agent_id: "late-agent" });
    const all = await t.waitFor(5);
    expect(all.slice(3).map(toolOf)).toEqual(["after_checkpoint", "helper_call"]);
    expect(chainOf(all[4]!).chain_id).toBe(`${CHAIN}-3/agent/late-agent`);
    expect(t.stderr()).toBe("");
    t.proc.kill("SIGTERM");
    expect(await t.exited).toBe(0);
  }, 60_000);

  test("with filters, including an agent whose chain does not exist yet", async () => {
    const t = follow("-n", "0", "--jsonl", "--agent", "brand-new");
    await Bun.sleep(300);
    emit("not_for_this_agent");
    emit("for_this_agent", { agent_id: "brand-new" });
    const got = await t.waitFor(1);
    expect(got.map(toolOf)).toEqual(["for_this_agent"]);
    await Bun.sleep(200);
    expect(t.lines()).toHaveLength(1);
    t.proc.kill("SIGINT");
    expect(await t.exited).toBe(0);
  });

  test("tail -f | head -3 ends cleanly (exit 0) once head has its lines", async () => {
    const started = Date.now();
    const pipeline = spawn("bash", ["-c", `set -o pipefail; "${BINARY}" tail -f -n 0 --jsonl --db "${fx.db}" | head -3`], { stdio: ["ignore", "pipe", "pipe"] });
    followers.push(pipeline);
    let out = "";
    let err = "";
    pipeline.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    pipeline.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const done = new Promise<number | string>((resolve) => pipeline.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
    await Bun.sleep(300);
    for (const tool of ["p1", "p2", "p3"]) emit(tool);
    // Nothing more is written: tail notices the closed pipe by itself.
    expect(await done).toBe(0);
    expect(err).toBe("");
    expect(out.trim().split("\n").map(toolOf)).toEqual(["p1", "p2", "p3"]);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);

  test("the table follows too: a header, then one line per new receipt, with the chain", async () => {
    const t = follow("-n", "0");
    await t.waitFor(1);
    expect(t.lines()[0]).toMatch(/^\s*SEQ\s+TIME\s+RISK\s+STATUS\s+TYPE\s+TOOL.*CHAIN$/);
    emit("table_row");
    const got = await t.waitFor(2);
    expect(got[1]).toContain("table_row");
    expect(got[1]).toContain(`${CHAIN}-3`);
    // A table that starts empty plans for the values to come: the date-time, risk and status are whole.
    expect(got[1]).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+(low|medium|high|critical)\s+(success|failure|pending)\s/);
    for (const l of got) expect(l.length).toBeLessThanOrEqual(80);
    t.proc.kill("SIGINT");
    expect(await t.exited).toBe(0);
  });
});

describe("tail -f started while no daemon has the database open", () => {
  test("a database file alone (no -wal): it follows the daemon that starts on it later", async () => {
    const dir = scratchDir("ar-tail-cold-");
    const keys = writeKeyFiles(dir);
    const db = join(dir, "receipts.db");
    // The file alone, as a backup copy is (the writer's close folded the WAL into it).
    mkdirSync(join(dir, "made"));
    makeChainDb(join(dir, "made", "receipts.db"), keys.privateKeyPem, 3, { chainId: "cold", terminate: true });
    copyFileSync(join(dir, "made", "receipts.db"), db);
    expect(readdirSync(dir).filter((n) => n.startsWith("receipts.db"))).toEqual(["receipts.db"]);
    const proc = spawn(BINARY, ["tail", "-f", "-n", "1", "--jsonl", "--db", db], { stdio: ["ignore", "pipe", "pipe"] });
    followers.push(proc);
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | string>((resolve) => proc.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
    const lines = () => out.split("\n").filter((l) => l !== "");
    const until = async (n: number) => {
      const deadline = Date.now() + 15_000;
      while (lines().length < n) {
        if (Date.now() > deadline) throw new Error(`tail printed ${lines().length} lines, not ${n}: ${out}`);
        await Bun.sleep(20);
      }
    };
    await until(1);
    // Reading created nothing beside the database.
    expect(readdirSync(dir).filter((n) => n.startsWith("receipts.db"))).toEqual(["receipts.db"]);
    const cold = await startDaemon({ dir, args: ["--chain-id", "cold"] });
    try {
      const r = spawnSync(BINARY, ["emit", "--socket", cold.socket, "--tool", "woke_up"], { encoding: "utf8" });
      expect(r.status).toBe(0);
      await until(2);
      expect(chainOf(lines()[1]!).chain_id).toBe("cold-2");
      expect(toolOf(lines()[1]!)).toBe("woke_up");
    } finally {
      expect(await cold.stop()).toBe(0);
    }
    proc.kill("SIGINT");
    expect(await exited).toBe(0);
  }, 30_000);
});

/** A consistent copy of the fixture's database (the daemon's WAL folded in) with one field changed inside the newest receipt of the first chain. */
function tamperedCopy(): { db: string; target: StoredRow } {
  const db = join(scratchDir("ar-tail-verify-"), "receipts.db");
  const ro = new Database(fx.db, { readonly: true });
  try {
    ro.run(`VACUUM INTO '${db}'`);
  } finally {
    ro.close();
  }
  const conn = new Database(db);
  try {
    conn.query("UPDATE receipts SET receipt_json = json_set(receipt_json, '$.credentialSubject.action.tool_name', 'rm') WHERE chain_id = ? AND sequence = 2").run(CHAIN);
  } finally {
    conn.close();
  }
  const target = storedRows(db).find((r) => r.chainId === CHAIN && r.sequence === 2)!;
  return { db, target };
}

/** The table's rows as [SEQ, SIG] (the header first). */
const seqSig = (lines: string[]) => lines.map((l) => l.trim().split(/\s+/).slice(0, 2));

describe("tail --verify and --public-key: each receipt's signature", () => {
  test("all valid: a SIG column of ok, exit 0; --jsonl unchanged with nothing on stderr", () => {
    const rows = storedRows(fx.db);
    const r = cli(["tail", "-n", "5", "--db", fx.db, "--public-key", fx.publicKey]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^SEQ\s+SIG\s+TIME\s+RISK/);
    expect(seqSig(lines).slice(1)).toEqual(rows.slice(-5).map((x) => [String(x.sequence), "ok"]));
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    const jsonl = cli(["tail", "-n", "3", "--jsonl", "--verify", "--db", fx.db, "--public-key", fx.publicKey]);
    expect(jsonl).toEqual({ code: 0, stdout: rows.slice(-3).map((x) => `${x.json}\n`).join(""), stderr: "" });
  });

  test("a receipt altered inside its stored JSON: BAD on its row, exit 1; --jsonl prints it unchanged and names it on stderr", () => {
    const { db, target } = tamperedCopy();
    const rows = storedRows(db);
    const table = cli(["tail", "-n", "1000", "--db", db, "--public-key", fx.publicKey, "--chain", CHAIN]);
    expect(table.code).toBe(1);
    expect(seqSig(table.stdout.trimEnd().split("\n")).slice(1)).toEqual(
      rows.filter((x) => x.chainId === CHAIN).map((x) => [String(x.sequence), x.sequence === 2 ? "BAD" : "ok"]),
    );
    const jsonl = cli(["tail", "-n", "1000", "--jsonl", "--db", db, "--public-key", fx.publicKey]);
    expect(jsonl.code).toBe(1);
    expect(jsonl.stdout).toBe(rows.map((x) => `${x.json}\n`).join(""));
    expect(target.json).toContain('"tool_name":"rm"');
    expect(jsonl.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(new RegExp(`^agent-receipts: BAD signature: chain ${CHAIN}, sequence 2, ${target.id}: does not verify under key sha256:[0-9a-f]{64}`)),
    ]);
    // Without --verify nothing changes: no column, exit 0.
    const plain = cli(["tail", "-n", "1000", "--db", db]);
    expect({ code: plain.code, stderr: plain.stderr }).toEqual({ code: 0, stderr: "" });
    expect(plain.stdout).not.toMatch(/SIG|BAD/);
  });

  test("another key: every row BAD, exit 1", () => {
    const other = writeKeyFiles(scratchDir("ar-tail-other-")).publicKey;
    const r = cli(["tail", "-n", "4", "--db", fx.db, "--public-key", other]);
    expect(r.code).toBe(1);
    expect(seqSig(r.stdout.trimEnd().split("\n")).slice(1).map((c) => c[1])).toEqual(["BAD", "BAD", "BAD", "BAD"]);
  });

  test("a key that cannot be read: exit 2, one line naming the path and the fix, nothing printed, and -f does not start", () => {
    const dir = scratchDir("ar-tail-badkey-");
    const junk = join(dir, "junk.pub");
    writeFileSync(junk, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    const cases: Array<[string[], RegExp]> = [
      [["--public-key", join(dir, "nope.pub")], /cannot check signatures: public key .*nope\.pub does not exist\. Pass --public-key PATH/],
      [["-f", "--jsonl", "--public-key", join(dir, "nope.pub")], /public key .*nope\.pub does not exist/],
      [["-f", "--verify"], /cannot check signatures: public key \/\S+\.pub does not exist/],
      [["--public-key", junk], /public key .*junk\.pub is not an Ed25519 SPKI PEM.*Pass --public-key PATH with the daemon's public key/],
    ];
    for (const [args, message] of cases) {
      const r = cli(["tail", "--db", fx.db, ...args]);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: "" });
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    }
  });

  test("without --verify or --public-key no key is read: the default key does not exist here, and tail works", () => {
    const r = cli(["tail", "-n", "2", "--db", fx.db]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout.split("\n")[0]).toMatch(/^SEQ\s+TIME\s+RISK/);
    expect(cli(["tail", "-n", "2", "--db", fx.db, "--verify"]).code).toBe(2);
  });

  test("-f with a valid key: new receipts ok, Ctrl-C exits 0", async () => {
    const t = follow("-n", "0", "--public-key", fx.publicKey);
    await t.waitFor(1);
    expect(t.lines()[0]).toMatch(/^\s*SEQ\s+SIG\s+TIME.*CHAIN$/);
    emit("vf_ok");
    const got = await t.waitFor(2);
    expect(got[1]).toContain("vf_ok");
    for (const l of got) expect(l.length).toBeLessThanOrEqual(80);
    expect(seqSig(got)[1]![1]).toBe("ok");
    t.proc.kill("SIGINT");
    expect(await t.exited).toBe(0);
    expect(t.stderr()).toBe("");
  });

  test("-f with another key: it keeps following and printing, names each receipt on stderr (--jsonl), and exits 1 when stopped", async () => {
    const other = writeKeyFiles(scratchDir("ar-tail-other-")).publicKey;
    const t = follow("-n", "0", "--jsonl", "--public-key", other);
    await Bun.sleep(300);
    emit("bad_one");
    await t.waitFor(1);
    emit("bad_two");
    const got = await t.waitFor(2);
    expect(got.map(toolOf)).toEqual(["bad_one", "bad_two"]);
    const stored = storedRows(fx.db);
    expect(got).toEqual(stored.slice(-2).map((x) => x.json));
    const deadline = Date.now() + 5_000;
    while (t.stderr().trimEnd().split("\n").length < 2 && Date.now() < deadline) await Bun.sleep(20);
    expect(t.stderr().trimEnd().split("\n")).toEqual(
      stored.slice(-2).map((x) => expect.stringContaining(`BAD signature: chain ${x.chainId}, sequence ${x.sequence}, ${x.id}: does not verify`)),
    );
    expect(t.proc.exitCode).toBeNull();
    t.proc.kill("SIGINT");
    expect(await t.exited).toBe(1);
  });

  test("-f on a database with a bad receipt among the first lines: BAD, it keeps following, and exits 1 on SIGTERM", async () => {
    const { db } = tamperedCopy();
    const t = followDb(db, "-n", "1000", "--public-key", fx.publicKey, "--chain", CHAIN);
    const n = storedRows(db).filter((x) => x.chainId === CHAIN).length;
    const got = await t.waitFor(1 + n);
    expect(seqSig(got).slice(1).filter((c) => c[1] === "BAD")).toEqual([["2", "BAD"]]);
    await Bun.sleep(200);
    expect(t.proc.exitCode).toBeNull();
    t.proc.kill("SIGTERM");
    expect(await t.exited).toBe(1);
  });
});
