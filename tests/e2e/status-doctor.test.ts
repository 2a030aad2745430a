// `agent-receipts status` and `doctor` (issue 10) through the compiled binary,
// against real daemons (separate processes) on their default paths in a
// private XDG_RUNTIME_DIR / XDG_DATA_HOME: up, down (clean stop and crash),
// with a mismatched AGENTRECEIPTS_SOCKET, with a refused and an unauthorised
// uid (real OS users, root only), with a wrong-mode key, with a broken chain;
// and the daemon's status file itself.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { launchDaemon, type Launched } from "../helpers/daemon.ts";
import { BINARY } from "../helpers/fixtures.ts";
import { asUser, IS_ROOT, OsUsers, type OsUser } from "../helpers/os-users.ts";
import { privateWorld, type PrivateWorld } from "../helpers/private-world.ts";
import { BIND_AND_HANG, runSender, sendAndConfirm, validFrame } from "../daemon/support.ts";

const dirs: string[] = [];
const daemons: Launched[] = [];
afterAll(async () => {
  for (const d of daemons) await d.stop("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Setup = PrivateWorld;

/** A private world: the daemon and the CLI resolve the same default paths from it. */
function setup(): Setup {
  const s = privateWorld("ar-status-");
  dirs.push(s.dir);
  return s;
}

async function start(s: Setup, args: string[] = []): Promise<Launched> {
  const d = await launchDaemon(args, s.env);
  daemons.push(d);
  if (!d.listening) throw new Error(`daemon did not start (${await d.exited}):\n${d.stderr()}`);
  return d;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>, wrap: string[] = []): Run {
  const argv = [...wrap, BINARY, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function parse<T>(r: Run): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

interface StatusJson {
  running: boolean;
  reachable: boolean;
  daemon: { pid: number; version: string; socket: string; db: string; chain_id: string; fingerprint: string; status_file: string } | null;
  daemon_note: string | null;
  connection: { socket: string; socket_from: string; outcome: string; ok: boolean; message: string; fix: string | null };
  database: { path: string; readable: boolean; size_bytes: number | null; error: string | null };
  chain_head: { chain_id: string; sequence: number; timestamp: string; age_seconds: number } | null;
  receipts: { total: number; last_hour: number } | null;
  events_dropped: { receipts: number; events: number } | null;
  key: { fingerprint: string | null; daemon_fingerprint: string | null };
}

interface Check {
  name: string;
  level: "ok" | "warn" | "fail";
  message: string;
  fix: string | null;
}
interface DoctorJson {
  ok: boolean;
  counts: { ok: number; warn: number; fail: number };
  checks: Check[];
}

function status(s: Setup, extraEnv: Record<string, string> = {}, args: string[] = [], wrap: string[] = []): { run: Run; json: StatusJson } {
  const run = cli(["status", "--json", ...args], { ...s.env, ...extraEnv }, wrap);
  return { run, json: parse<StatusJson>(run) };
}

function doctor(s: Setup, extraEnv: Record<string, string> = {}, args: string[] = [], wrap: string[] = []): { run: Run; json: DoctorJson; check(name: string): Check } {
  const run = cli(["doctor", "--json", ...args], { ...s.env, ...extraEnv }, wrap);
  const json = parse<DoctorJson>(run);
  return {
    run, json,
    check: (name) => {
      const c = json.checks.find((x) => x.name === name);
      if (c === undefined) throw new Error(`no check ${name}: ${run.stdout}`);
      return c;
    },
  };
}

function emit(s: Setup, extra: string[] = []): void {
  const r = cli(["emit", "--tool", "read_file", "--input", '{"path":"/etc/hosts"}', ...extra], s.env);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
}

/** Rewrites one stored receipt's JSON in place (valid JSON, broken signature), as an attacker with write access would. */
function tamper(db: string, sequence: number): void {
  const conn = new Database(db);
  try {
    const row = conn.query("SELECT receipt_json FROM receipts WHERE sequence = ?").get(sequence) as { receipt_json: string };
    const receipt = JSON.parse(row.receipt_json) as { credentialSubject: { outcome: { status: string } } };
    receipt.credentialSubject.outcome.status = receipt.credentialSubject.outcome.status === "success" ? "failure" : "success";
    conn.query("UPDATE receipts SET receipt_json = ? WHERE sequence = ?").run(JSON.stringify(receipt), sequence);
  } finally {
    conn.close();
  }
}

describe("daemon up", () => {
  let s: Setup;
  let d: Launched;
  beforeAll(async () => {
    s = setup();
    d = await start(s);
    emit(s);
    // Two events lost by an emitter, reported with its next delivered one (a raw frame from a separate process): one events_dropped receipt.
    await runSender("node", s.socket, sendAndConfirm([validFrame("dropping", 0, { drop_count: 2 })]));
  });

  test("the daemon publishes its status file beside the socket: 0640, its pid, paths, chain and key", () => {
    const st = statSync(s.statusFile);
    expect(st.mode & 0o777).toBe(0o640);
    const file = JSON.parse(readFileSync(s.statusFile, "utf8")) as Record<string, unknown>;
    const started = d.logs().find((l) => l.event === "started")!;
    expect(file).toMatchObject({
      format: 1, pid: d.proc.pid, uid: process.getuid!(), socket: s.socket, db: s.db, key: s.key, public_key: s.publicKey,
      chain_id: started.chain_id, fingerprint: started.fingerprint, config: null, allow_uids: [], allow_groups: [], socket_group: null,
    });
    expect(Date.parse(String(file.updated_at))).toBeGreaterThanOrEqual(Date.parse(String(file.started_at)));
  });

  test("status: running and reachable, chain head, counts, events_dropped, size, fingerprint; exit 0", () => {
    const { run, json } = status(s);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const started = d.logs().find((l) => l.event === "started")!;
    expect(json.running).toBe(true);
    expect(json.reachable).toBe(true);
    expect(json.daemon).toMatchObject({ pid: d.proc.pid, socket: s.socket, db: s.db, chain_id: started.chain_id, fingerprint: started.fingerprint, status_file: s.statusFile });
    expect(json.connection).toMatchObject({ socket: s.socket, socket_from: "default", outcome: "accepted", ok: true, fix: null });
    expect(json.database.path).toBe(s.db);
    expect(json.database.readable).toBe(true);
    expect(json.database.size_bytes).toBeGreaterThan(0);
    // emit, then events_dropped + its live event.
    expect(json.receipts).toEqual({ total: 3, last_hour: 3 });
    expect(json.events_dropped).toEqual({ receipts: 1, events: 2 });
    expect(json.chain_head).toMatchObject({ chain_id: started.chain_id, sequence: 3 });
    expect(Math.abs(json.chain_head!.age_seconds)).toBeLessThan(60);
    expect(json.key.fingerprint).toBe(String(started.fingerprint));
  });

  test("status prints one screen for people", () => {
    const r = cli(["status"], s.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`agent-receipts daemon: running, pid ${d.proc.pid}`);
    expect(r.stdout).toMatch(/receipts\s+3 in total, 3 in the last hour/);
    expect(r.stdout).toMatch(/dropped\s+1 events_dropped receipt: emitters lost 2 events/);
    expect(r.stdout).not.toContain("\x1b[");
  });

  test("doctor: every check ok but the hook (none configured); --round-trip commits a probe event and reads it back", () => {
    const { run, json, check } = doctor(s, {}, ["--round-trip"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(json.ok).toBe(true);
    for (const name of ["daemon", "socket_path", "socket_access", "signing_key", "public_key", "database", "chain", "disk_space", "clock", "round_trip"]) {
      expect(`${name}: ${check(name).level} ${check(name).message}`).toStartWith(`${name}: ok`);
    }
    expect(check("claude_code_hook").level).toBe("warn");
    expect(check("round_trip").message).toMatch(/committed in [\d.]+ ms, readable in [\d.]+ ms/);
    const conn = new Database(s.db, { readonly: true });
    const probes = conn.query("SELECT action_type FROM receipts WHERE action_type LIKE 'doctor.%'").all();
    conn.close();
    expect(probes).toEqual([{ action_type: "doctor.round_trip" }]);
  });

  test("doctor finds the Claude Code hook in the user's settings, and a hook whose binary is gone", () => {
    const claude = join(s.env.HOME!, ".claude");
    mkdirSync(claude, { recursive: true });
    const settings = (command: string) => JSON.stringify({
      hooks: Object.fromEntries(["PreToolUse", "PostToolUse"].map((e) => [e, [{ matcher: "*", hooks: [{ type: "command", command }] }]])),
    });
    writeFileSync(join(claude, "settings.json"), settings(`${BINARY} hook claude-code`));
    expect(doctor(s).check("claude_code_hook")).toMatchObject({ level: "ok" });
    writeFileSync(join(claude, "settings.json"), settings("/nonexistent/bin/agent-receipts hook claude-code"));
    const gone = doctor(s);
    expect(gone.check("claude_code_hook")).toMatchObject({ level: "fail" });
    expect(gone.check("claude_code_hook").message).toContain("/nonexistent/bin/agent-receipts does not exist");
    expect(gone.check("claude_code_hook").fix).toContain(`${BINARY} hook claude-code`);
    expect(gone.run.code).toBe(1);
    rmSync(claude, { recursive: true });
  });

  test("a mismatched AGENTRECEIPTS_SOCKET: status names both sockets and the variable (exit 1); doctor fails socket_path", () => {
    const wrong = join(s.dir, "elsewhere", "events.sock");
    const st = status(s, { AGENTRECEIPTS_SOCKET: wrong });
    expect(st.run.code).toBe(1);
    expect(st.json.running).toBe(true);
    expect(st.json.reachable).toBe(false);
    expect(st.json.daemon?.socket).toBe(s.socket);
    expect(st.json.connection).toMatchObject({ socket: wrong, socket_from: "AGENTRECEIPTS_SOCKET", outcome: "no_socket", ok: false });
    expect(st.json.connection.message).toContain(`but a daemon listens on ${s.socket}`);
    expect(st.json.connection.fix).toContain(`export AGENTRECEIPTS_SOCKET=${s.socket}`);
    // The record is still found: through the daemon's status file.
    expect(st.json.receipts?.total).toBeGreaterThanOrEqual(3);

    const doc = doctor(s, { AGENTRECEIPTS_SOCKET: wrong });
    expect(doc.run.code).toBe(1);
    expect(doc.check("socket_path").level).toBe("fail");
    expect(doc.check("socket_path").message).toBe(`this shell's emitters use ${wrong} (from AGENTRECEIPTS_SOCKET), but the daemon listens on ${s.socket}`);
    expect(doc.check("socket_path").fix).toContain(`export AGENTRECEIPTS_SOCKET=${s.socket}`);
    expect(doc.check("daemon").level).toBe("ok");
    // Human output: one line per check, the fix under it.
    const text = cli(["doctor"], { ...s.env, AGENTRECEIPTS_SOCKET: wrong });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^fail {2}socket_path +this shell's emitters use /m);
    expect(text.stdout).toMatch(/^ +fix: export AGENTRECEIPTS_SOCKET=/m);
  });

  test("service status on a daemon the service manager did not start: running, not managed, exit 0 (issue 13 item 22)", () => {
    const r = cli(["service", "status", "--user", "--json"], s.env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ socket: s.socket, socket_state: "accepting", running: true, managed: false, daemon_pid: d.proc.pid });
    const text = cli(["service", "status", "--user"], s.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`running (pid ${d.proc.pid}), but not managed by the service`);
  });

  test("a signing key made group-readable while the daemon runs: doctor fails signing_key with the chmod to run", () => {
    chmodSync(s.key, 0o640);
    try {
      const doc = doctor(s);
      expect(doc.run.code).toBe(1);
      expect(doc.check("signing_key")).toEqual({
        name: "signing_key", level: "fail",
        message: `signing key ${s.key} has mode 0640: readable by group or others, so the daemon will refuse to start`,
        fix: `chmod 600 ${s.key}`,
      });
      // status is about the daemon and the record, which are fine.
      expect(status(s).run.code).toBe(0);
    } finally {
      chmodSync(s.key, 0o600);
    }
  });
});

describe("daemon down", () => {
  test("after a clean stop: no status file; status says not running (exit 1) and still reads the record; doctor fails daemon", async () => {
    const s = setup();
    const d = await start(s);
    emit(s);
    expect(existsSync(s.statusFile)).toBe(true);
    expect(await d.stop()).toBe(0);
    expect(existsSync(s.statusFile)).toBe(false);
    // The clean stop folded the WAL into the database; the emptied -wal and the -shm stay (group readers need them).
    expect(statSync(`${s.db}-wal`).size).toBe(0);
    // (The -shm is SQLite's shared-memory index: every reader maps it and may update it, so its mtime is not compared.)
    const dbFiles = () => readdirSync(s.data).filter((f) => f.startsWith("receipts.db")).sort().map((f) => {
      const st = statSync(join(s.data, f));
      return { f, ino: st.ino, uid: st.uid, gid: st.gid, mode: st.mode, size: st.size, mtimeMs: f.endsWith("-shm") ? 0 : st.mtimeMs };
    });
    const filesAtStop = dbFiles();

    const { run, json } = status(s);
    expect(run.code).toBe(1);
    expect(json.running).toBe(false);
    expect(json.reachable).toBe(false);
    expect(json.daemon).toBeNull();
    expect(json.connection.outcome).toBe("no_socket");
    expect(json.connection.fix).toContain("agent-receipts daemon");
    // The event and the terminator.
    expect(json.receipts?.total).toBe(2);
    expect(json.database.path).toBe(s.db);
    expect(cli(["status"], s.env).stdout).toContain("agent-receipts daemon: not running");

    const doc = doctor(s);
    expect(doc.run.code).toBe(1);
    expect(doc.check("daemon").level).toBe("fail");
    expect(doc.check("daemon").message).toContain(`no daemon is running (looked for a socket at ${s.socket}`);
    expect(doc.check("chain").level).toBe("ok");
    expect(doc.check("signing_key").level).toBe("ok");
    // Read-only for real: status and doctor create, replace or change none of the database's files
    // (run as root, new ones would be root's, and the daemon's user could not open them at its next start).
    expect(dbFiles()).toEqual(filesAtStop);
  });

  test("after a crash: the left-over status file is reported as such, not as a running daemon", async () => {
    const s = setup();
    const d = await start(s);
    const pid = d.proc.pid;
    await d.stop("SIGKILL");
    expect(existsSync(s.statusFile)).toBe(true);
    const { run, json } = status(s);
    expect(run.code).toBe(1);
    expect(json.running).toBe(false);
    expect(json.daemon_note).toContain(`the daemon (pid ${pid}`);
    expect(json.daemon_note).toContain("did not stop cleanly");
    expect(json.connection.outcome).toBe("not_listening");
    expect(doctor(s).check("daemon").message).toContain("did not stop cleanly");
  });

  test("a wrong-mode key with the daemon down: doctor fails signing_key (the daemon would refuse to start)", async () => {
    const s = setup();
    const d = await start(s);
    expect(await d.stop()).toBe(0);
    chmodSync(s.key, 0o644);
    const doc = doctor(s);
    expect(doc.run.code).toBe(1);
    expect(doc.check("signing_key")).toMatchObject({ level: "fail", fix: `chmod 600 ${s.key}` });
    expect(doc.check("signing_key").message).toContain("has mode 0644");
    // What the daemon itself says at start, which doctor predicted.
    const again = await launchDaemon([], s.env);
    daemons.push(again);
    expect(again.listening).toBe(false);
    expect(again.stderr()).toContain("has mode 0644");
  });
});

describe("broken chain", () => {
  test("a tampered receipt: doctor fails chain (quick and --full) naming the sequence; status still reports", async () => {
    const s = setup();
    const d = await start(s, ["--chain-id", "tampered"]);
    for (let i = 0; i < 3; i++) emit(s);
    expect(await d.stop()).toBe(0);
    expect(doctor(s).check("chain").level).toBe("ok");
    tamper(s.db, 2);

    for (const args of [[], ["--full"]]) {
      const doc = doctor(s, {}, args);
      expect(doc.run.code).toBe(1);
      const chain = doc.check("chain");
      expect(chain.level).toBe("fail");
      expect(chain.message).toContain("chain tampered is broken: bad signature at sequence 2");
      expect(chain.fix).toContain("agent-receipts verify --chain tampered");
    }
    const st = status(s);
    expect(st.run.stderr).toBe("");
    expect(st.run.code).toBe(1);
    expect(st.json.receipts?.total).toBe(4);
  });

  test("the quick check covers only the newest 1,000 receipts, and reads a window that does not start its chain", async () => {
    const s = setup();
    const d = await start(s, ["--chain-id", "long"]);
    const lines = Array.from({ length: 1100 }, (_, i) => JSON.stringify({ tool: { name: "read_file" }, decision: "allowed", input: { i } })).join("\n");
    const r = spawnSync(BINARY, ["emit", "--stdin"], { env: s.env, input: `${lines}\n`, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(await d.stop()).toBe(0);
    // Receipt 1 is outside the newest 1,000 (1,100 events + the terminator).
    tamper(s.db, 1);
    const quick = doctor(s).check("chain");
    expect(quick.level).toBe("ok");
    expect(quick.message).toContain("the newest 1000 receipts verify (long 102-1101)");
    expect(doctor(s, {}, ["--full"]).check("chain").level).toBe("fail");
    tamper(s.db, 500);
    expect(doctor(s).check("chain").message).toContain("bad signature at sequence 500");
  });
});

describe("a listener with a hand-written status file (another process holds the socket)", () => {
  let s: Setup;
  let binder: ChildProcess;
  beforeAll(async () => {
    s = setup();
    mkdirSync(dirname(s.socket), { mode: 0o750 });
    binder = spawn(process.execPath, [BIND_AND_HANG, s.socket], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => binder.stdout!.once("data", () => resolve()));
  });
  afterAll(() => {
    binder.kill("SIGKILL");
  });

  function writeStatus(updatedAt: Date): void {
    writeFileSync(s.statusFile, JSON.stringify({
      format: 1, pid: binder.pid, uid: process.getuid!(), version: "0.0.0-test", started_at: new Date(Date.now() - 3600_000).toISOString(),
      updated_at: updatedAt.toISOString(), socket: s.socket, db: s.db, key: s.key, public_key: s.publicKey, chain_id: "stand-in",
      fingerprint: "sha256:00", config: null, allow_uids: [], allow_groups: [], socket_group: null,
    }));
  }

  test("no status file: running (the kernel shows the listener), and doctor says the daemon has no status file", () => {
    rmSync(s.statusFile, { force: true });
    const st = status(s);
    expect(st.json.running).toBe(true);
    expect(st.json.daemon).toBeNull();
    expect(st.json.daemon_note).toContain("has no status file");
    expect(doctor(s).check("daemon")).toMatchObject({ level: "warn" });
  });

  test("a heartbeat dated in the future: doctor warns that the daemon's clock is ahead", () => {
    writeStatus(new Date(Date.now() + 3600_000));
    expect(status(s).json.daemon).toMatchObject({ pid: binder.pid, chain_id: "stand-in" });
    const clock = doctor(s).check("clock");
    expect(clock.level).toBe("warn");
    expect(clock.message).toContain("the daemon's clock is about 1 h ahead of this machine's");
  });

  test("a heartbeat far in the past: doctor warns that the daemon is stalled or its clock behind", () => {
    writeStatus(new Date(Date.now() - 600_000));
    const clock = doctor(s).check("clock");
    expect(clock.level).toBe("warn");
    expect(clock.message).toContain("the daemon last wrote its status file 10 min ago");
  });

  test("a fresh heartbeat: the clock check is ok", () => {
    writeStatus(new Date());
    expect(doctor(s).check("clock").level).toBe("ok");
  });

  test.skipIf(!IS_ROOT)("a status file that the socket's owner did not write is not believed", () => {
    writeStatus(new Date());
    chownSync(s.statusFile, 65534, 65534);
    const st = status(s).json;
    expect(st.daemon).toBeNull();
    expect(st.daemon_note).toContain("not written by this daemon");
    rmSync(s.statusFile);
  });
});

describe.skipIf(!IS_ROOT)("other users (needs root to create them)", () => {
  const users = new OsUsers();
  let group: { name: string; gid: number };
  let member: OsUser;
  let outsider: OsUser;
  let readers: { name: string; gid: number };
  let auditor: OsUser;
  let s: Setup;
  let d: Launched;
  beforeAll(async () => {
    group = users.group("emit");
    readers = users.group("read");
    member = users.user("m", [group.name]);
    outsider = users.user("o");
    auditor = users.user("aud", [readers.name]);
    s = setup();
    d = await start(s, ["--socket-group", group.name]);
    emit(s);
  });
  afterAll(() => users.cleanup());

  const envFor = (u: OsUser) => ({ ...s.env, HOME: join(s.dir, `home-${u.name}`) });

  test("the status file goes to the socket's group, so its members can read it", () => {
    const st = statSync(s.statusFile);
    expect(st.gid).toBe(group.gid);
    expect(st.mode & 0o777).toBe(0o640);
  });

  test("a uid in the socket's group but not allowed by the daemon: status says refused (exit 1); doctor names allow_uids", () => {
    const { run, json } = status(s, envFor(member), [], asUser(member));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    expect(json.running).toBe(true);
    expect(json.reachable).toBe(false);
    expect(json.connection.outcome).toBe("refused");
    expect(json.connection.message).toContain(`uid ${member.uid} is not the daemon's own uid or root, and no allow_uids/allow_groups are configured`);
    expect(json.connection.fix).toContain(`add ${member.uid} to allow_uids`);
    // The database is the daemon's user's: reported, not a usage error.
    expect(json.database.readable).toBe(false);

    const doc = doctor(s, envFor(member), [], asUser(member));
    expect(doc.run.code).toBe(1);
    expect(doc.check("socket_access")).toMatchObject({ level: "fail" });
    expect(doc.check("socket_access").message, doc.run.stdout).toContain("refuses");
    expect(doc.check("socket_access").fix).toContain("allow_uids");
    expect(doc.check("daemon").level).toBe("ok");
    // Agents are not meant to read the record: a warning with the way in, not a failure.
    expect(doc.check("database")).toMatchObject({ level: "warn", message: `this user may not read ${s.db}: the record checks are skipped` });
  });

  test("a uid outside the socket's group: EACCES, and the fix names the group to join", () => {
    const { run, json } = status(s, envFor(outsider), [], asUser(outsider));
    expect(run.code).toBe(1);
    expect(json.connection.outcome).toBe("no_permission");
    expect(json.connection.message).toContain(`only group ${group.name} may`);
    expect(json.connection.fix).toContain(`sudo usermod -aG ${group.name} ${outsider.name}`);
    // It cannot read the status file either, but the kernel shows the listening socket.
    expect(json.running).toBe(true);
    expect(json.daemon_note).toContain("may not read the daemon's status file");

    const doc = doctor(s, envFor(outsider), [], asUser(outsider));
    expect(doc.check("socket_access").level).toBe("fail");
    expect(doc.check("socket_access").fix).toContain(`usermod -aG ${group.name}`);
  });

  test("an auditor with group read access only: status reads the record with the daemon up and down", async () => {
    // The system install's evidence directory: 0750 and 0640 files, group agentreceipts-read.
    for (const p of [join(s.dir, "data"), s.data, s.db, `${s.db}-wal`, `${s.db}-shm`, s.publicKey]) {
      if (existsSync(p)) chownSync(p, 0, readers.gid);
    }
    const up = status(s, envFor(auditor), [], asUser(auditor));
    expect(up.run.stderr).toBe("");
    expect(up.json.running).toBe(true);
    expect(up.json.database).toMatchObject({ path: s.db, readable: true, error: null });
    expect(up.json.receipts?.total).toBe(1);
    expect(await d.stop()).toBe(0);
    const down = status(s, envFor(auditor), [], asUser(auditor));
    expect(down.run.code).toBe(1);
    expect(down.json.running).toBe(false);
    expect(down.json.database, JSON.stringify(down.json.database)).toMatchObject({ readable: true });
    // The event and the terminator.
    expect(down.json.receipts?.total).toBe(2);
  });
});

describe("bad input exits 2 with one line naming the problem", () => {
  const s = setup();
  const cases: Array<[string, string[], RegExp]> = [
    ["status: missing --db", ["status", "--db", "/nonexistent/receipts.db"], /database \/nonexistent\/receipts\.db does not exist/],
    ["doctor: missing --db", ["doctor", "--db", "/nonexistent/receipts.db"], /database \/nonexistent\/receipts\.db does not exist/],
    ["status: not a database", ["status", "--db", "/etc/hostname"], /\/etc\/hostname/],
    ["doctor: missing --public-key", ["doctor", "--public-key", "/nonexistent/k.pub", "--db", "/nonexistent/receipts.db"], /does not exist/],
    ["status: missing --public-key", ["status", "--public-key", "/nonexistent/k.pub"], /public key \/nonexistent\/k\.pub does not exist/],
    ["status: missing --config", ["status", "--config", "/nonexistent/daemon.toml"], /cannot read config file \/nonexistent\/daemon\.toml/],
    ["doctor: TCP --socket", ["doctor", "--socket", "tcp://127.0.0.1:9000"], /looks like a TCP address/],
    ["status: extra word", ["status", "now"], /unexpected argument "now"/],
    ["doctor: unknown flag", ["doctor", "--quick"], /unknown option "--quick"/],
  ];
  for (const [what, args, message] of cases) {
    test(what, () => {
      const r = cli(args, s.env);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain("    at ");
    });
  }
});
