// `status` and `doctor` on the transparency log, through the compiled binary
// against real daemons in a private XDG_RUNTIME_DIR / XDG_DATA_HOME: the
// status file's `log` member, the tree and checkpoint sizes, a witness's
// cosignatures, anchors that work, fail and recover, tampered checkpoint rows
// and tiles, receipts left in no checkpoint, and the log turned off.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launchDaemon, type Launched } from "../helpers/daemon.ts";
import { BINARY } from "../helpers/fixtures.ts";
import { privateWorld, type PrivateWorld } from "../helpers/private-world.ts";
import { initWitnessKey, startWitness, type WitnessProcess } from "../helpers/witness.ts";
import { waitFor } from "../daemon/support.ts";

const dirs: string[] = [];
const daemons: Launched[] = [];
const witnesses: WitnessProcess[] = [];
afterAll(async () => {
  for (const d of daemons) await d.stop("SIGKILL");
  for (const w of witnesses) await w.stop("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface World extends PrivateWorld {
  config: string;
}

/** A private world whose default paths the daemon and the CLI both resolve; the daemon reads `config`. */
function world(configText: string): World {
  const w = privateWorld("ar-status-tlog-");
  dirs.push(w.dir);
  const config = join(w.dir, "daemon.toml");
  writeFileSync(config, configText);
  return { ...w, config };
}

async function start(w: World): Promise<Launched> {
  const d = await launchDaemon(["--config", w.config], w.env);
  daemons.push(d);
  if (!d.listening) throw new Error(`daemon did not start (${await d.exited}):\n${d.stderr()}`);
  return d;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(w: World, args: string[]): Run {
  const r = spawnSync(BINARY, args, { env: w.env, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function emit(w: World, n: number): void {
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ tool: { name: "Read" }, decision: "allowed", input: { i } })).join("\n");
  const r = spawnSync(BINARY, ["emit", "--stdin"], { env: w.env, input: `${lines}\n`, encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`emit failed (${r.status}): ${r.stderr}`);
}

interface AnchorJson {
  name: string;
  published: number;
  failures: number;
  failed_attempts: number;
  last_error: string | null;
  last_published_size: number | null;
  last_published_at: string | null;
}

interface LogJson {
  origin: string | null;
  tree_size: number;
  not_in_tree: number;
  checkpoint: { size: number; root: string; created_at: string; age_seconds: number } | null;
  not_in_checkpoint: number;
  oldest_not_in_checkpoint: string | null;
  cosignatures: Array<{ key_name: string; key_id: string; size: number; count: number; received_at: string }>;
  daemon_enabled: boolean | null;
  anchors: AnchorJson[] | null;
}

function statusJson(w: World, args: string[] = []): { transparency_log: LogJson | null; receipts: { total: number } | null } {
  const r = cli(w, ["status", "--json", ...args]);
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`status --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

interface Check {
  name: string;
  level: "ok" | "warn" | "fail";
  message: string;
  fix: string | null;
}

function doctorLog(w: World, args: string[] = []): { code: number | null; check: Check } {
  const r = cli(w, ["doctor", "--json", ...args]);
  const json = JSON.parse(r.stdout) as { checks: Check[] };
  const check = json.checks.find((c) => c.name === "transparency_log");
  if (check === undefined) throw new Error(`no transparency_log check:\n${r.stdout}`);
  return { code: r.code, check };
}

function statusFileLog(w: World): Record<string, unknown> | null | undefined {
  return (JSON.parse(readFileSync(w.statusFile, "utf8")) as { log?: Record<string, unknown> | null }).log;
}

/** Runs `fn` on a read-write connection to a copy of the database, and returns the copy's path. */
function tamperedCopy(w: World, name: string, fn: (db: Database) => void): string {
  const copy = join(w.dir, `${name}.db`);
  copyFileSync(w.db, copy);
  const db = new Database(copy);
  try {
    fn(db);
  } finally {
    db.close();
  }
  return copy;
}

describe("log on, a file anchor and a live witness", () => {
  let w: World;
  let anchorFile: string;
  let vkey: string;
  let daemon: Launched;

  test("status shows the tree, the newest checkpoint, the witness's cosignatures and both anchors ok; the status file carries them", async () => {
    w = world("");
    // A first start creates the key and log.vkey, which the witness must trust.
    const first = await start(w);
    expect(await first.stop()).toBe(0);
    const logVkey = readFileSync(join(w.dir, "data", "agent-receipts", "log.vkey"), "utf8").trim();
    const wk = initWitnessKey(w.dir, "witness.test/w1");
    vkey = wk.vkey;
    const witness = await startWitness({ db: join(w.dir, "witness.db"), key: wk.key, logs: [logVkey] });
    witnesses.push(witness);
    anchorFile = join(w.dir, "anchor.checkpoints");
    writeFileSync(w.config, `checkpoint_interval = "200ms"\nanchors = ["file:${anchorFile}", "witness:${witness.url} ${vkey}"]\n`);
    daemon = await start(w);
    emit(w, 5);

    const s = await waitFor("a checkpoint covering every receipt, published and cosigned", () => statusJson(w).transparency_log, (t) =>
      t !== null && t.checkpoint !== null && t.not_in_checkpoint === 0 && t.checkpoint.size === t.tree_size
      && (t.anchors ?? []).every((a) => a.last_published_size === t.tree_size) && t.cosignatures.some((c) => c.size === t.tree_size), 15_000);
    const total = statusJson(w).receipts!.total;
    expect(s!.tree_size).toBe(total);
    expect(s!.not_in_tree).toBe(0);
    expect(s!.origin).toMatch(/\/agent-receipts\/[0-9a-f]{16}$/);
    expect(s!.daemon_enabled).toBe(true);
    expect(s!.checkpoint!.age_seconds).toBeGreaterThanOrEqual(0);
    expect(s!.checkpoint!.age_seconds).toBeLessThan(60);
    expect(s!.cosignatures.map((c) => c.key_name)).toEqual(["witness.test/w1"]);
    expect(s!.anchors!.map((a) => a.name)).toEqual([`file:${anchorFile}`, `witness:${witness.url}`]);
    for (const a of s!.anchors!) {
      expect(a.failed_attempts).toBe(0);
      expect(a.last_error).toBeNull();
      expect(a.published).toBeGreaterThanOrEqual(1);
    }

    // The status file: the same facts, and neither a key nor a checkpoint note.
    const log = statusFileLog(w)!;
    expect(log.origin).toBe(s!.origin);
    expect(log.checkpoint_interval).toBe(0.2);
    expect(typeof log.tree_size).toBe("number");
    const text = JSON.stringify(log);
    expect(text).not.toContain("—");
    expect(text).not.toContain(s!.checkpoint!.root);
    expect(text).not.toContain("PRIVATE");

    const screen = cli(w, ["status"]);
    expect(screen.code).toBe(0);
    expect(screen.stdout).toContain(`log        ${s!.origin}: ${total} receipts in the tree`);
    expect(screen.stdout).toMatch(new RegExp(`checkpoint size ${s!.checkpoint!.size}, signed \\S+ \\(\\d+ s ago\\); every receipt covered`));
    expect(screen.stdout).toContain(`cosigned   witness.test/w1 up to size ${s!.checkpoint!.size}`);
    expect(screen.stdout).toContain(`anchor     file:${anchorFile}: ok`);
    expect(screen.stdout).toContain(`anchor     witness:${witness.url}: ok`);
  }, 60_000);

  test("doctor: transparency_log ok, the newest checkpoint verifying and matching the tree", () => {
    const { check } = doctorLog(w);
    expect(check.level).toBe("ok");
    expect(check.message).toContain("verifies under sha256:");
    expect(check.message).toContain("matches the stored tree");
    expect(check.message).toContain("cosigned by witness.test/w1");
    expect(check.message).toContain("all 2 anchors are ok");
    expect(check.fix).toBeNull();
  });

  test("tampered rows (a copy of the database): doctor fails naming the problem; the untouched copy passes", async () => {
    expect(await daemon.stop()).toBe(0);
    const intact = tamperedCopy(w, "intact", () => {});
    expect(doctorLog(w, ["--db", intact]).check.level).toBe("ok");

    // The note's root line changed: its signature no longer verifies.
    const note = tamperedCopy(w, "note", (db) => {
      const row = db.query<{ size: number; note: string }, []>("SELECT size, note FROM tlog_checkpoints ORDER BY size DESC LIMIT 1").get()!;
      const lines = row.note.split("\n");
      lines[2] = Buffer.alloc(32, 7).toString("base64");
      db.query("UPDATE tlog_checkpoints SET note = ? WHERE size = ?").run(lines.join("\n"), row.size);
    });
    const n = doctorLog(w, ["--db", note]);
    expect(n.code).toBe(1);
    expect(n.check.level).toBe("fail");
    expect(n.check.message).toContain("does not verify under the public key");
    expect(n.check.fix).toContain("agent-receipts verify");

    // The root column changed, the note left alone.
    const root = tamperedCopy(w, "root", (db) => {
      db.run("UPDATE tlog_checkpoints SET root = zeroblob(32) WHERE size = (SELECT MAX(size) FROM tlog_checkpoints)");
    });
    const r = doctorLog(w, ["--db", root]);
    expect(r.check.level).toBe("fail");
    expect(r.check.message).toContain("size/root columns");

    // A leaf of the stored tree changed: the tree no longer gives the signed root.
    const tile = tamperedCopy(w, "tile", (db) => {
      // The newest leaf tile: while it is not full, the root is computed from its hashes.
      const t = db.query<{ id: number; hashes: Uint8Array }, []>("SELECT id, hashes FROM tlog_tiles WHERE level = 0 ORDER BY id DESC LIMIT 1").get()!;
      expect(t.hashes.length).toBeLessThan(16 * 32);
      const hashes = new Uint8Array(t.hashes);
      hashes[0] = hashes[0]! ^ 0xff;
      db.query("UPDATE tlog_tiles SET hashes = ? WHERE id = ?").run(hashes, t.id);
    });
    const t = doctorLog(w, ["--db", tile]);
    expect(t.check.level).toBe("fail");
    expect(t.check.message).toContain("does not match the stored tree");

    // status still reports the log of a tampered database.
    expect(statusJson(w, ["--db", note]).transparency_log).not.toBeNull();
  }, 30_000);

  test("receipts in no checkpoint for longer than twice checkpoint_interval: doctor warns", async () => {
    // The newest checkpoint removed: its receipts are covered by none.
    const gap = tamperedCopy(w, "gap", (db) => {
      db.run("DELETE FROM tlog_checkpoints WHERE size = (SELECT MAX(size) FROM tlog_checkpoints)");
    });
    const s = statusJson(w, ["--db", gap]).transparency_log!;
    expect(s.not_in_checkpoint).toBeGreaterThan(0);
    expect(s.oldest_not_in_checkpoint).not.toBeNull();
    // With the default interval (10 s) these receipts, a few seconds old, are not late yet.
    const fresh = join(w.dir, "default.toml");
    writeFileSync(fresh, "");
    const early = doctorLog(w, ["--db", gap, "--config", fresh]);
    expect(early.check.level).toBe("ok");
    await Bun.sleep(500);
    const late = doctorLog(w, ["--db", gap, "--config", w.config]);
    expect(late.check.level).toBe("warn");
    expect(late.check.message).toMatch(/\d+ receipts? (are|is) in no checkpoint, the oldest dated/);
    expect(late.check.fix).toContain("start the daemon");
  }, 30_000);
});

describe("failing anchors", () => {
  test("a file anchor whose directory is missing and a witness on a closed port: status says failing, doctor warns; the file anchor recovers", async () => {
    const w = world("");
    const wk = initWitnessKey(w.dir, "witness.test/closed");
    const missingDir = join(w.dir, "not-yet");
    const anchorFile = join(missingDir, "checkpoints");
    writeFileSync(w.config, `checkpoint_interval = "200ms"\nanchors = ["file:${anchorFile}", "witness:http://127.0.0.1:1 ${wk.vkey}"]\n`);
    const d = await start(w);
    emit(w, 3);
    const s = await waitFor("both anchors failing", () => statusJson(w).transparency_log, (t) =>
      t !== null && (t.anchors ?? []).length === 2 && t.anchors!.every((a) => a.failed_attempts >= 1), 15_000);
    const [file, witness] = s!.anchors!;
    expect(file!.name).toBe(`file:${anchorFile}`);
    expect(file!.last_error).toContain("cannot open");
    expect(file!.last_published_size).toBeNull();
    expect(witness!.name).toBe("witness:http://127.0.0.1:1");
    expect(witness!.last_error).toContain("unreachable");
    expect(witness!.failures).toBeGreaterThanOrEqual(witness!.failed_attempts);

    const screen = cli(w, ["status"]);
    expect(screen.stdout).toMatch(new RegExp(`anchor     file:${anchorFile}: failing: \\d+ failed attempts?`));
    expect(screen.stdout).toContain("witness:http://127.0.0.1:1: failing");
    expect(screen.stdout).toContain("anchor_failed");

    const doc = doctorLog(w);
    expect(doc.check.level).toBe("warn");
    expect(doc.check.message).toContain(`anchor file:${anchorFile} is failing`);
    expect(doc.check.message).toContain("anchor witness:http://127.0.0.1:1 is failing");
    expect(doc.check.fix).toContain("anchor_failed");

    // The directory appears: the file anchor's next retry works, and status says so.
    mkdirSync(missingDir);
    const after = await waitFor("the file anchor ok again", () => statusJson(w).transparency_log!.anchors!, (a) => a[0]!.failed_attempts === 0, 20_000);
    expect(after[0]!.last_error).toBeNull();
    expect(after[0]!.last_published_size).toBeGreaterThanOrEqual(3);
    expect(after[0]!.failures).toBeGreaterThanOrEqual(1);
    expect(after[1]!.failed_attempts).toBeGreaterThanOrEqual(1);
    const still = doctorLog(w).check;
    expect(still.message).not.toContain(`anchor file:${anchorFile}`);
    expect(still.message).toContain("anchor witness:http://127.0.0.1:1 is failing");
    expect(await d.stop()).toBe(0);
  }, 60_000);
});

describe("log off", () => {
  test("transparency_log = false: the status file's log is null, status's transparency_log null, doctor ok saying it is off", async () => {
    const w = world("transparency_log = false\n");
    const d = await start(w);
    emit(w, 2);
    expect(statusFileLog(w)).toBeNull();
    const s = statusJson(w);
    expect(s.receipts!.total).toBe(2);
    expect(s.transparency_log).toBeNull();
    expect(cli(w, ["status"]).stdout).not.toContain("checkpoint");
    const doc = doctorLog(w);
    expect(doc.check.level).toBe("ok");
    expect(doc.check.message).toContain("turned off");
    expect(await d.stop()).toBe(0);
  }, 30_000);
});
