// Data safety through the compiled daemon (issue 13, items 1, 2, 8, 12): a
// clean stop leaves a database that is complete on its own; one database has
// one writer; an event the daemon cannot commit is never confirmed; commits
// recover in a little freed space; a wrong file is refused by name.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { encodeFrame } from "../../src/protocol/framing.ts";
import { BINARY, writeKeyFiles } from "../helpers/fixtures.ts";
import { launchDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { chainProblems, cleanEnv, countReceipts, daemonTracker, readReceipts, runCli, tempDir, verify, waitFor } from "./support.ts";

const daemons = daemonTracker();
const extra: DaemonHandle[] = [];
const helpers: ChildProcess[] = [];
afterAll(async () => {
  for (const p of helpers) p.kill("SIGKILL");
  await daemons.stopAll();
  for (const d of extra) await d.stop("SIGKILL");
});

function frameFor(session: string, i: number, pad = 0): Buffer {
  return encodeFrame(JSON.stringify({
    v: "1", ts_emit: new Date().toISOString(), session_id: session, channel: "sdk", tool: { name: "write_file" },
    decision: "allowed", correlation_id: `${session}-${i}`, input: { i, pad: "x".repeat(pad) },
  }));
}

/**
 * Sends frames on one connection and half-closes. Resolves "confirmed" when the
 * daemon closes without a byte, "not_confirmed" when it wrote its NAK first.
 */
function sendFrames(socket: string, frames: Buffer[]): Promise<"confirmed" | "not_confirmed" | string> {
  return new Promise((resolve) => {
    let nak = false;
    const s = connect({ path: socket, allowHalfOpen: true }, () => {
      s.write(Buffer.concat(frames));
      s.end();
    });
    s.on("data", () => (nak = true));
    s.on("end", () => resolve(nak ? "not_confirmed" : "confirmed"));
    s.on("error", (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
  });
}

function emitCli(socket: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(BINARY, ["emit", "--socket", socket, ...args], { env: cleanEnv(), stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("exit", (code) => resolve({ code: code ?? -1, stderr }));
  });
}

function logged(d: DaemonHandle, event: string): Array<Record<string, unknown>> {
  return d.logs().filter((l) => l.event === event);
}

describe("a clean stop", () => {
  test("folds the WAL into receipts.db: the .db alone, copied after SIGTERM, holds and verifies every receipt", async () => {
    const d = await daemons.start({ args: ["--chain-id", "wal"] });
    for (let i = 0; i < 3; i++) expect((await emitCli(d.socket, ["--tool", `t${i}`])).code).toBe(0);
    expect(await d.stop()).toBe(0);
    const wal = `${d.db}-wal`;
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);
    // The documented backup of a stopped daemon: copy receipts.db, nothing else.
    const copyDir = tempDir("ar-walcopy-");
    copyFileSync(d.db, join(copyDir, "receipts.db"));
    const v = verify(join(copyDir, "receipts.db"), d.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains).toMatchObject([{ valid: true, count: 4, status: "interrupted" }]);
  });

  test("a reader in a long read transaction at stop delays it by at most a second and is reported; nothing is lost", async () => {
    const d = await daemons.start({ args: ["--chain-id", "busyreader"] });
    for (let i = 0; i < 3; i++) expect((await emitCli(d.socket, ["--tool", `t${i}`])).code).toBe(0);
    // Another process keeps a read transaction open, as a long verify does.
    const script = `const { Database } = require("bun:sqlite"); const db = new Database(${JSON.stringify(d.db)}, { readonly: true });
      db.run("BEGIN"); db.query("SELECT count(*) FROM receipts").get(); console.log("reading"); setTimeout(() => {}, 30000);`;
    const reader = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    helpers.push(reader);
    await new Promise<void>((resolve) => reader.stdout!.once("data", () => resolve()));
    const t0 = performance.now();
    expect(await d.stop()).toBe(0);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(logged(d, "wal_not_folded")).toHaveLength(1);
    reader.kill("SIGKILL");
    const v = verify(d.db, d.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains).toMatchObject([{ valid: true, count: 4, status: "interrupted" }]);
  });
});

describe("one writer per database", () => {
  test("a second daemon on the same database (another socket) is refused, naming the first one's pid and socket", async () => {
    const a = await daemons.start({ args: ["--chain-id", "one"] });
    expect((await emitCli(a.socket, ["--tool", "before"])).code).toBe(0);
    const runB = join(tempDir("ar-second-"), "run");
    mkdirSync(runB, { mode: 0o750 });
    const b = await launchDaemon(
      ["--socket", join(runB, "b.sock"), "--db", a.db, "--key", a.key, "--unsafe-socket-path", "--chain-id", "one"],
      { ...process.env, XDG_RUNTIME_DIR: runB },
    );
    if (b.listening) extra.push({ ...b, dir: a.dir, socket: join(runB, "b.sock"), db: a.db, key: a.key, publicKey: a.publicKey });
    expect(b.listening).toBe(false);
    expect(await b.exited).toBe(2);
    const failure = b.logs().find((l) => l.event === "start_failed");
    expect(String(failure?.error)).toContain(`pid ${a.proc.pid}`);
    expect(String(failure?.error)).toContain(a.socket);
    expect(String(failure?.error)).toContain(a.db);
    expect(existsSync(join(runB, "b.sock"))).toBe(false);
    // The first daemon is unaffected and its chain stays contiguous.
    for (let i = 0; i < 5; i++) expect((await emitCli(a.socket, ["--tool", `after-${i}`])).code).toBe(0);
    expect(await a.stop()).toBe(0);
    expect(logged(a, "commit_failed")).toEqual([]);
    const rows = readReceipts(a.db, "one");
    expect(chainProblems(rows)).toEqual([]);
    expect(rows).toHaveLength(7);
    expect(verify(a.db, a.publicKey).code).toBe(0);
  });

  test("the lock dies with its daemon: after SIGKILL a new daemon starts on the database at once", async () => {
    const a = await daemons.start({ args: ["--chain-id", "killed"] });
    expect((await emitCli(a.socket, ["--tool", "x"])).code).toBe(0);
    expect(await a.stop("SIGKILL")).toBe("SIGKILL");
    const b = await daemons.start({ dir: a.dir, args: ["--chain-id", "killed"] });
    expect((await emitCli(b.socket, ["--tool", "y"])).code).toBe(0);
    expect(await b.stop()).toBe(0);
    expect(verify(a.db, a.publicKey).code).toBe(0);
  });

  test("readers do not need the lock: verify runs while the daemon holds it", async () => {
    const a = await daemons.start({ args: ["--chain-id", "readers"] });
    expect((await emitCli(a.socket, ["--tool", "x"])).code).toBe(0);
    expect(readFileSync(`${a.db}.lock`, "utf8")).toContain(`"pid":${a.proc.pid}`);
    // Owner only: flock needs just a read descriptor, so a reader who could open it could block the daemon.
    expect(statSync(`${a.db}.lock`).mode & 0o777).toBe(0o600);
    const v = verify(a.db, a.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains).toMatchObject([{ valid: true, count: 1 }]);
    expect(await a.stop()).toBe(0);
  });
});

describe("an event the daemon cannot commit", () => {
  test("is counted in the log at stop and its emitter is not confirmed (emit exits 1)", async () => {
    const d = await daemons.start({ args: ["--chain-id", "unc"] });
    expect((await emitCli(d.socket, ["--tool", "ok"])).code).toBe(0);
    // A real SQLite failure on every insert, from another process.
    const admin = new Database(d.db);
    admin.run("PRAGMA busy_timeout = 5000");
    admin.run("CREATE TRIGGER fail_insert BEFORE INSERT ON receipts BEGIN SELECT RAISE(ABORT, 'simulated I/O failure'); END");
    admin.close();
    const pending = emitCli(d.socket, ["--tool", "doomed", "--timeout-ms", "60000"]);
    await waitFor("a failed commit", () => logged(d, "commit_failed").length, (n) => n > 0);
    expect(await d.stop()).toBe(1);
    const emitted = await pending;
    expect(emitted.code).toBe(1);
    expect(logged(d, "events_not_committed")).toMatchObject([{ events: 1, connections_not_confirmed: 1, last_error: "simulated I/O failure" }]);
    expect(logged(d, "stopped")).toMatchObject([{ events_not_committed: 1 }]);
    expect(countReceipts(d.db)).toBe(1);
  }, 40_000);
});

describe("a full disk", () => {
  // RLIMIT_FSIZE makes the kernel fail every write past the limit (EFBIG, with
  // SIGXFSZ ignored), which SQLite reports as a failed commit, like ENOSPC; prlimit
  // then "frees space" in the running daemon by raising the soft limit.
  const prlimit = Bun.which("prlimit");

  test.skipIf(process.platform !== "linux" || prlimit === null)(
    "a backlog commits in smaller batches in a little freed space, logs the recovery, and loses nothing",
    async () => {
      const dir = tempDir("ar-full-");
      const run = join(dir, "run");
      mkdirSync(run, { mode: 0o750 });
      const socket = join(run, "events.sock");
      const db = join(dir, "receipts.db");
      const key = join(dir, "signing.key");
      const launched = await launchDaemon(
        ["--socket", socket, "--db", db, "--key", key, "--unsafe-socket-path", "--chain-id", "full"],
        { ...process.env, XDG_RUNTIME_DIR: run },
        { wrap: ["sh", "-c", 'trap "" XFSZ; exec "$0" "$@"'] },
      );
      const d: DaemonHandle = { ...launched, dir, socket, db, key, publicKey: `${key}.pub` };
      extra.push(d);
      expect(launched.listening).toBe(true);
      const pid = launched.proc.pid!;
      const setLimit = (soft: string) => {
        const r = spawnSync(prlimit!, ["--pid", String(pid), `--fsize=${soft}:unlimited`], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`prlimit failed: ${r.stderr}`);
      };
      expect(await sendFrames(socket, [frameFor("full", 0)])).toBe("confirmed");
      // The disk is full: no file of the daemon may grow.
      const wal = statSync(`${db}-wal`).size;
      setLimit(String(Math.max(wal, statSync(db).size)));
      const N = 300;
      const backlog = sendFrames(socket, Array.from({ length: N }, (_, i) => frameFor("full", i + 1, 2000)));
      await waitFor("the whole backlog queued and failing", () => logged(d, "commit_failed"), (l) => l.some((f) => f.queued === N || f.events === N), 15_000);
      expect(countReceipts(db)).toBe(1);
      // Free room for a fraction of the backlog: ~300 receipts of 2 kB do not fit in 256 kB at once.
      setLimit(String(wal + 256 * 1024));
      const partial = await waitFor("a commit in the freed space", () => countReceipts(db), (n) => n > 1, 15_000);
      expect(partial).toBeLessThan(N + 1);
      const recovered = await waitFor("the recovery logged", () => logged(d, "commit_recovered"), (l) => l.length > 0);
      expect(Number(recovered[0]!.events)).toBeGreaterThan(0);
      // Space for everything: the rest commits and the emitter is confirmed.
      setLimit("unlimited");
      expect(await backlog).toBe("confirmed");
      expect(countReceipts(db)).toBe(N + 1);
      expect(await d.stop()).toBe(0);
      const rows = readReceipts(db, "full");
      expect(chainProblems(rows)).toEqual([]);
      const ids = rows.map((r) => (r.receipt.credentialSubject as { correlation_id?: string }).correlation_id).filter((c) => c !== undefined);
      expect(ids).toEqual(Array.from({ length: N + 1 }, (_, i) => `full-${i}`));
      expect(verify(db, d.publicKey).code).toBe(0);
    },
    60_000,
  );
});

describe("a file that is not the receipts database", () => {
  function otherSchemaDb(path: string): void {
    const db = new Database(path, { create: true });
    db.run("CREATE TABLE receipts (id TEXT PRIMARY KEY, body TEXT)");
    db.run("INSERT INTO receipts VALUES ('a', 'b')");
    db.close();
  }

  function otherAppDb(path: string): void {
    const db = new Database(path, { create: true });
    db.run("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
    db.close();
  }

  async function daemonOn(dbPath: string): Promise<{ code: number | string; error: string }> {
    const dir = tempDir("ar-wrongdb-");
    const keys = writeKeyFiles(dir);
    const run = join(dir, "run");
    mkdirSync(run, { mode: 0o750 });
    const l = await launchDaemon(
      ["--socket", join(run, "s.sock"), "--db", dbPath, "--key", keys.key, "--unsafe-socket-path"],
      { ...process.env, XDG_RUNTIME_DIR: run },
    );
    if (l.listening) await l.stop("SIGKILL");
    expect(l.listening).toBe(false);
    return { code: await l.exited, error: String(l.logs().find((x) => x.event === "start_failed")?.error) };
  }

  test("daemon --db on a file that is not SQLite: exit 2, the path and what was expected", async () => {
    const path = join(tempDir("ar-garbage-"), "garbage.db");
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const r = await daemonOn(path);
    expect(r.code).toBe(2);
    expect(r.error).toContain(`${path} is not an SQLite database`);
    expect(r.error).toContain("expected the agent-receipts database");
  });

  test("daemon --db on another schema or another program's database: exit 2, named, and the file left unchanged", async () => {
    const other = join(tempDir("ar-schema-"), "other.db");
    otherSchemaDb(other);
    const r1 = await daemonOn(other);
    expect(r1.code).toBe(2);
    expect(r1.error).toContain(`${other} is not an agent-receipts database`);
    expect(r1.error).toContain("lacks the columns chain_id, sequence");

    const app = join(tempDir("ar-schema-"), "app.db");
    otherAppDb(app);
    const before = readFileSync(app);
    const r2 = await daemonOn(app);
    expect(r2.code).toBe(2);
    expect(r2.error).toContain(`${app} is not an agent-receipts database: it has no receipts table and holds other tables (notes)`);
    expect(readFileSync(app).equals(before)).toBe(true);
  });

  test("verify on another schema or a non-SQLite file: one line naming the path, exit 2, no 'unexpected error'", () => {
    const dir = tempDir("ar-schema-");
    const keys = writeKeyFiles(dir);
    const other = join(dir, "other.db");
    otherSchemaDb(other);
    const garbage = join(dir, "garbage.db");
    writeFileSync(garbage, Buffer.alloc(8192, 0x5a));
    for (const [db, expected] of [[other, `${other} is not an agent-receipts database`], [garbage, `${garbage} is not an SQLite database`]] as const) {
      const r = runCli(["verify", "--db", db, "--public-key", keys.publicKey]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(expected);
      expect(r.stderr).not.toContain("unexpected error");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});
