// The product's core promise on a system-style install, end to end: the agent
// runs as its own OS user and can reach only the socket; the signing key, the
// config and the database are out of its reach; the daemon attests it from the
// kernel whatever it claims; the auditor verifies the live database.
//
// The install is laid out from the shipped packaging files (tmpfiles.d, the
// system daemon.toml, the systemd unit), rebased into a temporary root and onto
// per-run users and groups, so this test follows those files rather than a copy.
// Real users (root only, as in CI), the compiled binary, separate processes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { launchDaemon, type Launched } from "../helpers/daemon.ts";
import { BINARY, ROOT, tempDir } from "../helpers/fixtures.ts";
import { asUser, IS_ROOT, OsUsers, type OsUser } from "../helpers/os-users.ts";
import {
  chainProblems, killSenders, readReceipts, realExe, RUNTIMES, SENDER, sendAndConfirm, spawnSender, validFrame, waitFor,
  type Json, type Row,
} from "../daemon/support.ts";

const PACKAGING = join(ROOT, "packaging");
const SHIPPED_USER = "agentreceipts";

const users = new OsUsers();
let READ: { name: string; gid: number };
let EMIT: { name: string; gid: number };
let DAEMON: OsUser;
let AGENT: OsUser;
let AUDITOR: OsUser;
let OUTSIDER: OsUser;

/** The rebased install. Paths come from the rebased daemon.toml, directories from the rebased tmpfiles.d. */
interface Install {
  root: string;
  runDir: string;
  etcDir: string;
  libDir: string;
  config: string;
  socket: string;
  db: string;
  key: string;
  publicKey: string;
  /** The agent's own writable directory (its "home"), for files it tries to plant. */
  agentHome: string;
  /** The binary every user runs (BINARY, or a copy in a 0755 dir when BINARY is not reachable by others). */
  binary: string;
}
let inst: Install;
let daemon: (Launched & { listening: boolean }) | undefined;
let chainId = "";
/** Connections AGENT opened that the daemon accepted; compared with the daemon's own count at stop. */
let agentConnections = 0;
/** Event receipts AGENT caused (one per valid frame); compared with the chain at the end. */
let agentEvents = 0;
/** Connections AGENT cut inside a frame; the rest of the chain must not notice. */
let framingErrorsCaused = 0;
/** Whether a frame with agent_id "root" opened the sub-agent chain <root>/agent/root. */
let subChainUsed = false;
const cleanupDirs: string[] = [];
/** Processes this file started as other users (besides senders and the daemon), with their exits, for afterAll. */
const children = new Map<ChildProcess, Promise<number | null>>();

// ------------------------------------------------------------ the shipped files, rebased

/** `/etc/...`, `/var/...` go under the temp root; `/run/<x>/...` goes to the per-run dir under /run (a safe root). */
function rebasePath(root: string, runDir: string, path: string): string {
  const run = /^\/run\/[^/]+(\/.*)?$/.exec(path);
  if (run) return runDir + (run[1] ?? "");
  if (path.startsWith("/etc/") || path.startsWith("/var/")) return join(root, path);
  // Never let a shipped path we do not know how to rebase reach the real system.
  throw new Error(`shipped path ${path} is outside what this test rebases (/etc, /var, /run/<dir>)`);
}

function mapUser(name: string): OsUser {
  if (name === SHIPPED_USER) return DAEMON;
  throw new Error(`shipped packaging names an unknown user ${JSON.stringify(name)}`);
}

function mapGroup(name: string): { name: string; gid: number } {
  // The daemon user's own group stands for the shipped `agentreceipts` group (sysusers `u` creates both).
  if (name === SHIPPED_USER) return { name: DAEMON.name, gid: DAEMON.gid };
  if (name === `${SHIPPED_USER}-read`) return READ;
  if (name === `${SHIPPED_USER}-emit`) return EMIT;
  throw new Error(`shipped packaging names an unknown group ${JSON.stringify(name)}`);
}

/** The `d` lines of the shipped tmpfiles.d file: path, mode, owner, group. */
function shippedDirs(): Array<{ path: string; mode: number; user: string; group: string }> {
  const text = readFileSync(join(PACKAGING, "systemd", "agent-receipts.tmpfiles.conf"), "utf8");
  const dirs = text.split("\n").filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#")).map((l) => {
    const [type, path, mode, user, group] = l.trim().split(/\s+/);
    if (type !== "d" || !path || !mode || !user || !group) throw new Error(`unexpected tmpfiles line: ${l}`);
    return { path, mode: parseInt(mode, 8), user, group };
  });
  if (dirs.length === 0) throw new Error("the shipped tmpfiles.d file creates no directory");
  return dirs;
}

type TomlValue = string | number | boolean | TomlValue[];

/** The shipped system daemon.toml with paths rebased and user/group names mapped to this run's. */
function rebasedConfig(root: string, runDir: string): Record<string, TomlValue> {
  const shipped = Bun.TOML.parse(readFileSync(join(PACKAGING, "config", "daemon.linux.toml"), "utf8")) as Record<string, TomlValue>;
  const out: Record<string, TomlValue> = {};
  for (const [key, value] of Object.entries(shipped)) {
    if (["socket", "db", "key", "public_key"].includes(key)) out[key] = rebasePath(root, runDir, String(value));
    else if (key === "socket_group") out[key] = mapGroup(String(value)).name;
    else if (key === "allow_groups") out[key] = (value as TomlValue[]).map((g) => mapGroup(String(g)).name);
    else if (key === "allow_uids") out[key] = (value as TomlValue[]).map((u) => mapUser(String(u)).name);
    else out[key] = value;
  }
  return out;
}

function tomlText(config: Record<string, TomlValue>): string {
  // JSON strings, numbers, booleans and flat arrays of them are valid TOML values.
  const lines = Object.entries(config).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
  return `# Rebased from packaging/config/daemon.linux.toml by tests/e2e/separation.test.ts\n${lines.join("\n")}\n`;
}

/** The [Service] settings of the shipped system unit that decide who the daemon runs as. */
function shippedUnit(): Map<string, string> {
  const text = readFileSync(join(PACKAGING, "systemd", "agent-receipts.service"), "utf8");
  const settings = new Map<string, string>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("[")) section = line;
    else if (section === "[Service]" && /^[A-Za-z]+=/.test(line)) settings.set(line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1));
  }
  return settings;
}

function unitSetting(unit: Map<string, string>, key: string): string {
  const v = unit.get(key);
  if (v === undefined) throw new Error(`the shipped unit has no ${key}=`);
  return v;
}

/**
 * The argv prefix that runs the daemon like the unit does: User=, Group= (primary),
 * SupplementaryGroups=, NoNewPrivileges=, CapabilityBoundingSet=, AmbientCapabilities=,
 * UMask=. `sh` sets the umask, then execs the binary in its place (same pid, so
 * signals reach the daemon); `shift` drops the BINARY argument launchDaemon appends,
 * so `inst.binary` (possibly a copy) is what runs.
 */
function daemonWrap(unit: Map<string, string>): string[] {
  const user = mapUser(unitSetting(unit, "User"));
  const group = mapGroup(unitSetting(unit, "Group"));
  const supplementary = unitSetting(unit, "SupplementaryGroups").split(/\s+/).map((g) => mapGroup(g).gid);
  const caps = (key: string) => unitSetting(unit, key).split(/\s+/).map((c) => c.replace(/^CAP_/, "").toLowerCase());
  const ambient = caps("AmbientCapabilities");
  const bounding = caps("CapabilityBoundingSet");
  const umask = unitSetting(unit, "UMask");
  if (!/^[0-7]{3,4}$/.test(umask)) throw new Error(`unexpected UMask=${umask}`);
  return [
    "setpriv", `--reuid=${user.uid}`, `--regid=${group.gid}`, `--groups=${supplementary.join(",")}`,
    ...(unitSetting(unit, "NoNewPrivileges") === "yes" ? ["--nnp"] : []),
    `--bounding-set=-all,${bounding.map((c) => `+${c}`).join(",")}`,
    `--inh-caps=-all,${ambient.map((c) => `+${c}`).join(",")}`,
    `--ambient-caps=-all,${ambient.map((c) => `+${c}`).join(",")}`,
    "--", "/bin/sh", "-c", `umask ${umask} && shift && exec "$0" "$@"`, inst.binary,
  ];
}

// ------------------------------------------------------------ processes as users

/** A minimal, login-like environment: nothing of root's environment leaks into another user's process. */
function envFor(home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8" };
}

/** Spawns `argv` as `user` with a login-like environment; tracked so afterAll can kill it before userdel. */
function spawnAs(user: OsUser, argv: string[], home: string, stdin: "ignore" | "pipe"): { p: ChildProcess; exited: Promise<number | null> } {
  const full = [...asUser(user), ...argv];
  const p = spawn(full[0]!, full.slice(1), { env: envFor(home), stdio: [stdin, "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => p.on("exit", (code) => resolve(code)));
  children.set(p, exited);
  void exited.then(() => children.delete(p));
  return { p, exited };
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

function runAs(user: OsUser, argv: string[], home = "/nonexistent"): Ran {
  const full = [...asUser(user), ...argv];
  const r = spawnSync(full[0]!, full.slice(1), { encoding: "utf8", env: envFor(home), timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, pid: r.pid ?? -1 };
}

/** Like runAs, but asynchronous (the test keeps running while it waits) and with the child's pid. */
async function runAsAsync(user: OsUser, argv: string[], home = "/nonexistent"): Promise<Ran> {
  const { p, exited } = spawnAs(user, argv, home, "ignore");
  let stdout = "";
  let stderr = "";
  p.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await exited;
  return { code, stdout, stderr, pid: p.pid ?? -1 };
}

function emitAs(user: OsUser, session: string, extra: string[] = []): Promise<Ran> {
  return runAsAsync(user, [inst.binary, "emit", "--socket", inst.socket, "--tool", "read_file", "--input", '{"path":"/etc/hosts"}', "--session", session, ...extra], inst.agentHome);
}

/** One event as AGENT through the CLI, confirmed (committed) by the daemon; keeps the counters right. */
async function agentEmits(session: string): Promise<Ran> {
  const r = await emitAs(AGENT, session);
  if (r.code !== 0) throw new Error(`emit as AGENT failed (${r.code}): ${r.stderr}`);
  agentConnections++;
  agentEvents++;
  return r;
}

// ------------------------------------------------------------ database views (as root)

function sql<T>(query: string, ...params: Array<string | number>): T[] {
  const conn = new Database(inst.db, { readonly: true });
  try {
    return conn.query(query).all(...params) as T[];
  } finally {
    conn.close();
  }
}

function bySession(session: string): Row[] {
  return readReceipts(inst.db).filter((r) => r.receipt.issuer.session_id === session);
}

function rowCount(): number {
  return sql<{ n: number }>("SELECT count(*) AS n FROM receipts")[0]!.n;
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function logsOf(event: string): Array<Record<string, unknown>> {
  return daemon!.logs().filter((l) => l.event === event);
}

/** The kernel-attested peer without exe_path (checked on its own, last: see the exe_path tests). */
function withoutExe(r: Row): Record<string, unknown> | undefined {
  const peer = r.receipt.credentialSubject.action.peer_credential;
  if (peer === undefined) return undefined;
  const { exe_path: _exe, ...kernel } = peer;
  return kernel;
}

const STACK_LINE = /^\s+at .+[(:]\d+/m;

// ------------------------------------------------------------ setup

beforeAll(async () => {
  if (!IS_ROOT) return;
  READ = users.group("read");
  EMIT = users.group("emit");
  DAEMON = users.user("daemon");
  AGENT = users.user("agent", [EMIT.name]);
  AUDITOR = users.user("auditor", [READ.name]);
  OUTSIDER = users.user("outsider");

  const root = tempDir("ar-separation-");
  cleanupDirs.push(root);
  const runDir = join("/run", users.name("run"));
  cleanupDirs.push(runDir);
  // Other users must be able to traverse down to the install's directories (mkdtemp makes 0700).
  for (const d of [root, join(root, "etc"), join(root, "var"), join(root, "var", "lib")]) {
    mkdirSync(d, { recursive: true });
    chmodSync(d, 0o755);
  }

  // The binary, as every user will run it: reachable by all, or copied to where it is.
  let binary = BINARY;
  if (spawnSync("setpriv", [`--reuid=${DAEMON.uid}`, `--regid=${DAEMON.gid}`, "--clear-groups", "--", "test", "-x", BINARY]).status !== 0) {
    const binDir = join(root, "bin");
    mkdirSync(binDir, { mode: 0o755 });
    chmodSync(binDir, 0o755);
    binary = join(binDir, "agent-receipts");
    copyFileSync(BINARY, binary);
    chmodSync(binary, 0o755);
  }
  // The raw sender script runs as AGENT from the checkout; it must be readable there.
  if (spawnSync("setpriv", [`--reuid=${AGENT.uid}`, `--regid=${AGENT.gid}`, "--clear-groups", "--", "test", "-r", SENDER]).status !== 0) {
    throw new Error(`${SENDER} is not readable by other users; run the suite from a world-readable checkout`);
  }

  // tmpfiles.d, rebased.
  const dirs = shippedDirs().map((d) => ({ ...d, path: rebasePath(root, runDir, d.path) }));
  for (const d of dirs) {
    mkdirSync(d.path, { recursive: true, mode: d.mode });
    chmodSync(d.path, d.mode);
    chownSync(d.path, mapUser(d.user).uid, mapGroup(d.group).gid);
  }

  const config = rebasedConfig(root, runDir);
  const path = (k: string) => {
    const v = config[k];
    if (typeof v !== "string") throw new Error(`the shipped daemon.toml sets no ${k}`);
    return v;
  };
  const unit = shippedUnit();
  const exec = unitSetting(unit, "ExecStart").split(/\s+/);
  if (exec[1] !== "daemon" || exec[2] !== "--config" || exec[3] === undefined || exec.length !== 4) {
    throw new Error(`unexpected ExecStart=${exec.join(" ")}`);
  }
  const configPath = rebasePath(root, runDir, exec[3]);
  inst = {
    root, runDir, config: configPath, etcDir: dirname(configPath), libDir: dirname(path("db")),
    socket: path("socket"), db: path("db"), key: path("key"), publicKey: path("public_key"),
    agentHome: join(root, "home", "agent"), binary,
  };
  // The shipped files must agree with each other: every file lives in a directory tmpfiles.d creates.
  const created = dirs.map((d) => d.path);
  for (const f of [inst.config, inst.socket, inst.db, inst.key, inst.publicKey]) {
    if (!created.includes(dirname(f))) throw new Error(`${f} is not in a directory the shipped tmpfiles.d creates (${created.join(", ")})`);
  }
  // Written by the installer (root), read by the daemon only: the config dir is 0700.
  writeFileSync(inst.config, tomlText(config), { mode: 0o640 });
  chownSync(inst.config, DAEMON.uid, DAEMON.gid);

  mkdirSync(inst.agentHome, { recursive: true, mode: 0o700 });
  chownSync(inst.agentHome, AGENT.uid, AGENT.gid);
  chmodSync(join(root, "home"), 0o755);

  // systemd starts services with a clean environment; HOME is the sysusers home (/var/lib/agentreceipts).
  daemon = await launchDaemon(["--config", inst.config], { PATH: process.env.PATH, HOME: inst.libDir, LANG: "C.UTF-8" }, { wrap: daemonWrap(unit) });
  if (!daemon.listening) throw new Error(`daemon did not start (${await daemon.exited}):\n${daemon.stderr()}`);
  chainId = String(daemon.logs().find((l) => l.event === "started")?.chain_id);
});

afterAll(async () => {
  killSenders();
  for (const [p, exited] of children) {
    p.kill("SIGKILL");
    await exited;
  }
  if (daemon !== undefined) await daemon.stop("SIGKILL");
  for (const d of cleanupDirs) rmSync(d, { recursive: true, force: true });
  users.cleanup();
});

// ------------------------------------------------------------ the tests

describe.skipIf(!IS_ROOT)("separation on a system install (real users; needs root)", () => {
  test("the daemon runs like the unit: its own uid, group READ + EMIT, only CAP_SYS_PTRACE, umask 027; files as shipped", () => {
    const status = readFileSync(`/proc/${daemon!.proc.pid}/status`, "utf8");
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status)?.[1]?.trim().split(/\s+/);
    expect(field("Uid")).toEqual(Array(4).fill(String(DAEMON.uid)));
    expect(field("Gid")).toEqual(Array(4).fill(String(READ.gid)));
    expect(field("Groups")).toEqual([String(EMIT.gid)]);
    const ptrace = (1n << 19n).toString(16).padStart(16, "0"); // CAP_SYS_PTRACE is capability 19
    expect([field("CapEff"), field("CapAmb"), field("CapBnd")]).toEqual([[ptrace], [ptrace], [ptrace]]);
    expect(field("Umask")).toEqual(["0027"]);
    expect(field("NoNewPrivs")).toEqual(["1"]);

    const owner = (p: string) => {
      const st = statSync(p);
      return [(st.mode & 0o7777).toString(8), st.uid, st.gid];
    };
    expect(owner(inst.etcDir)).toEqual(["700", DAEMON.uid, DAEMON.gid]);
    expect(owner(inst.libDir)).toEqual(["750", DAEMON.uid, READ.gid]);
    expect(owner(inst.runDir)).toEqual(["750", DAEMON.uid, EMIT.gid]);
    // Created by the daemon at first start.
    expect(logsOf("key_created")).toHaveLength(1);
    expect(owner(inst.key)).toEqual(["600", DAEMON.uid, READ.gid]);
    expect(owner(inst.publicKey)).toEqual(["644", DAEMON.uid, READ.gid]);
    expect(owner(inst.db)).toEqual(["640", DAEMON.uid, READ.gid]);
    expect(owner(inst.socket)).toEqual(["660", DAEMON.uid, EMIT.gid]);
    expect(statSync(inst.socket).isSocket()).toBe(true);
  });

  test("the agent can emit (CLI and a raw sender); every receipt carries the kernel's view of it, exe_path included", async () => {
    const cli = await agentEmits("sep-cli");
    expect(cli.stderr).toBe("");

    const sender = spawnSender("node", inst.socket, sendAndConfirm([validFrame("sep-raw", 0), validFrame("sep-raw", 1)]), { wrap: asUser(AGENT) });
    const hello = await sender.hello;
    const code = await sender.exited;
    agentConnections++;
    agentEvents += 2;
    expect(code).toBe(0);
    expect(sender.lines().find((l) => "closed" in l)).toMatchObject({ closed: true });

    // emit exits 0 only once committed: no waiting needed for the CLI; the raw sender waited for the daemon's close.
    const cliRows = bySession("sep-cli");
    const raw = bySession("sep-raw");
    expect([cliRows.length, raw.length]).toEqual([1, 2]);
    const expected = [
      { platform: "linux", pid: cli.pid, uid: AGENT.uid, gid: AGENT.gid, exe: realpathSync(inst.binary) },
      ...raw.map(() => ({ platform: "linux", pid: hello.pid, uid: AGENT.uid, gid: AGENT.gid, exe: realExe("node") })),
    ];
    const rows = [...cliRows, ...raw];
    for (const r of rows) expect(r.receipt.credentialSubject.principal.id).toBe(`did:user:${AGENT.name}`);
    expect(rows.map((r) => withoutExe(r))).toEqual(expected.map(({ exe: _exe, ...kernel }) => kernel));
    expect(hello.exe).toBe(realExe("node"));
    // Last, so the checks above still run if it fails: exe_path of another user's process is readable
    // only with CAP_SYS_PTRACE, so its presence proves the unit's one capability is enough.
    expect(rows.map((r) => r.receipt.credentialSubject.action.peer_credential?.exe_path)).toEqual(expected.map((e) => e.exe));
    expect(logsOf("peer_exe_unknown")).toEqual([]);
  });

  test("the agent can neither read nor write the key, config or database (+ -wal/-shm), nor replace the public key: EACCES everywhere", async () => {
    await agentEmits("sep-before-probe"); // the database holds receipts, so "unchanged" below means something
    // The WAL companions exist while the daemon holds the database open: the attempts are about real files.
    for (const f of [inst.db, `${inst.db}-wal`, `${inst.db}-shm`, inst.key, inst.publicKey, inst.config]) expect(statSync(f).isFile()).toBe(true);
    const before = {
      key: [sha256(inst.key), statSync(inst.key).mode, statSync(inst.key).size, statSync(inst.key).ino],
      pub: [sha256(inst.publicKey), statSync(inst.publicKey).ino],
      config: sha256(inst.config),
      rows: rowCount(),
    };

    const files: Record<string, string> = {
      "signing.key": inst.key, "daemon.toml": inst.config, "receipts.db": inst.db,
      "receipts.db-wal": `${inst.db}-wal`, "receipts.db-shm": `${inst.db}-shm`, "signing.key.pub": inst.publicKey,
    };
    const dirs: Record<string, string> = { "config dir": inst.etcDir, "data dir": inst.libDir, "socket dir": inst.runDir };
    const probe = `
      const fs = require("node:fs");
      const { files, dirs, own, socket } = JSON.parse(process.argv[1]);
      const out = {};
      const attempt = (label, fn) => { try { fn(); out[label] = "OK"; } catch (e) { out[label] = e.code ?? String(e); } };
      // Control: the probe can succeed where the agent has rights, so "EACCES" below is not a broken probe.
      attempt("control: create in own dir", () => fs.closeSync(fs.openSync(own + "/control", "wx")));
      let n = 0;
      for (const [name, path] of Object.entries(files)) {
        attempt(name + ": open for read", () => fs.closeSync(fs.openSync(path, "r")));
        attempt(name + ": open for write", () => fs.closeSync(fs.openSync(path, "r+")));
        attempt(name + ": open for append", () => fs.closeSync(fs.openSync(path, "a")));
        attempt(name + ": unlink", () => fs.unlinkSync(path));
        const mine = own + "/forged-" + n++;
        fs.writeFileSync(mine, "forged\\n");
        attempt(name + ": rename own file over it", () => fs.renameSync(mine, path));
      }
      for (const [name, dir] of Object.entries(dirs)) attempt(name + ": create a file", () => fs.closeSync(fs.openSync(dir + "/planted", "wx")));
      attempt("events.sock: unlink", () => fs.unlinkSync(socket));
      process.stdout.write(JSON.stringify(out));`;
    const r = runAs(AGENT, [RUNTIMES.node, "-e", probe, JSON.stringify({ files, dirs, own: inst.agentHome, socket: inst.socket })]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const results = JSON.parse(r.stdout) as Record<string, string>;

    const expected: Record<string, string> = { "control: create in own dir": "OK" };
    for (const name of Object.keys(files)) {
      for (const op of ["open for read", "open for write", "open for append", "unlink", "rename own file over it"]) {
        // All EACCES, from the directories: the config dir is 0700 DAEMON, the data dir 0750 DAEMON:READ, so
        // AGENT (not in READ) cannot even look names up there. That includes reading the public key: it is
        // published to auditors, not to agents (an agent has no use for it).
        expected[`${name}: ${op}`] = "EACCES";
      }
    }
    for (const name of Object.keys(dirs)) expected[`${name}: create a file`] = "EACCES";
    // The socket dir is 0750 DAEMON:EMIT: AGENT may look the socket up and connect, but not remove or replace it.
    expected["events.sock: unlink"] = "EACCES";
    expect(results).toEqual(expected);

    // Nothing changed: same key bytes/mode/inode, same public key, same config, no row added or lost.
    expect([sha256(inst.key), statSync(inst.key).mode, statSync(inst.key).size, statSync(inst.key).ino]).toEqual(before.key);
    expect((statSync(inst.key).mode & 0o777).toString(8)).toBe("600");
    expect([sha256(inst.publicKey), statSync(inst.publicKey).ino]).toEqual(before.pub);
    expect(sha256(inst.config)).toBe(before.config);
    expect(rowCount()).toBe(before.rows);
    expect(statSync(inst.socket).isSocket()).toBe(true);
  });

  test("a user outside EMIT cannot reach the socket at all: OUTSIDER and AUDITOR get EACCES at connect, the daemon never sees them", async () => {
    const refusedBefore = logsOf("connection_refused").length;
    const lookup = `try { require("node:fs").statSync(process.argv[1]); console.log("OK"); } catch (e) { console.log(e.code); }`;
    for (const [who, user] of [["outsider", OUTSIDER], ["auditor", AUDITOR]] as const) {
      // Two layers: the socket dir (0750 DAEMON:EMIT) hides even the socket's name, and the socket is 0660.
      expect(runAs(user, [RUNTIMES.node, "-e", lookup, inst.socket]).stdout.trim()).toBe("EACCES");
      const h = spawnSender("node", inst.socket, sendAndConfirm([validFrame(`sep-${who}`, 0)]), { wrap: asUser(user) });
      expect(await h.exited).toBe(3); // the sender's "could not connect" exit
      expect(h.lines().slice(1)).toEqual([{ error: "EACCES", stage: "connect" }]);

      // The CLI says so too, naming the socket, without a stack trace.
      const cli = await emitAs(user, `sep-${who}-cli`);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain(inst.socket);
      expect(cli.stderr).not.toMatch(STACK_LINE);
    }
    // Refused by the filesystem (socket dir 0750 DAEMON:EMIT), before accept: no refusal logged, no receipt.
    expect(logsOf("connection_refused").length).toBe(refusedBefore);
    const principals = new Set(readReceipts(inst.db).map((r) => r.receipt.credentialSubject.principal.id));
    expect(principals.has(`did:user:${OUTSIDER.name}`) || principals.has(`did:user:${AUDITOR.name}`)).toBe(false);
    for (const s of ["sep-outsider", "sep-auditor", "sep-outsider-cli", "sep-auditor-cli"]) expect(bySession(s)).toEqual([]);
    // The final test also checks the daemon's own connection count: only AGENT's connections were accepted.
  });

  test("the auditor verifies the live database; the agent running verify gets a clear permission error", async () => {
    await agentEmits("sep-audit");
    const live = runAs(AUDITOR, [inst.binary, "verify", "--db", inst.db, "--public-key", inst.publicKey]);
    expect(live.stderr).toBe("");
    expect(live.code).toBe(0);
    const n = rowCount();
    // A live chain has no terminator yet, so its tail cannot be proven complete: "unknown" is the right status.
    expect(live.stdout).toContain(`VALID   chain ${chainId}  ${n} receipt${n === 1 ? "" : "s"}  status: unknown (tail completeness not proven)\n`);

    // The auditor reads, nothing more: no key, no writing the database.
    const probe = `
      const fs = require("node:fs");
      const out = {};
      for (const [label, path, flags] of JSON.parse(process.argv[1])) {
        try { fs.closeSync(fs.openSync(path, flags)); out[label] = "OK"; } catch (e) { out[label] = e.code; }
      }
      process.stdout.write(JSON.stringify(out));`;
    const targets = [
      ["db read", inst.db, "r"], ["db write", inst.db, "r+"], ["wal write", `${inst.db}-wal`, "r+"],
      ["shm write", `${inst.db}-shm`, "r+"], ["key read", inst.key, "r"], ["public key read", inst.publicKey, "r"],
      ["public key write", inst.publicKey, "r+"],
    ];
    const p = runAs(AUDITOR, [RUNTIMES.node, "-e", probe, JSON.stringify(targets)]);
    expect(p.code).toBe(0);
    expect(JSON.parse(p.stdout)).toEqual({
      "db read": "OK", "db write": "EACCES", "wal write": "EACCES", "shm write": "EACCES",
      "key read": "EACCES", "public key read": "OK", "public key write": "EACCES",
    });

    // The agent cannot even read the public key (the data dir is auditors-only), so verify stops there first ...
    const agent = runAs(AGENT, [inst.binary, "verify", "--db", inst.db, "--public-key", inst.publicKey], inst.agentHome);
    expect([agent.code, agent.stdout]).toEqual([2, ""]);
    expect(agent.stderr).toContain(inst.publicKey);
    expect(agent.stderr).toMatch(/permission denied/i);
    expect(agent.stderr).not.toMatch(STACK_LINE);
    // ... and given a copy of the public key it can read, it stops at the database, naming it.
    const pubCopy = join(inst.agentHome, "signing.key.pub");
    copyFileSync(inst.publicKey, pubCopy);
    chownSync(pubCopy, AGENT.uid, AGENT.gid);
    const withKey = runAs(AGENT, [inst.binary, "verify", "--db", inst.db, "--public-key", pubCopy], inst.agentHome);
    expect([withKey.code, withKey.stdout]).toEqual([2, ""]);
    expect(withKey.stderr).toContain(inst.db);
    expect(withKey.stderr).toMatch(/permission denied/i);
    expect(withKey.stderr).not.toMatch(STACK_LINE);
  });

  test("forged identity fields in a frame change nothing the kernel attests", async () => {
    const forged: Record<string, Json> = {
      issuer_name: "root-daemon", issuer_model: "forged-model", operator_id: "root",
      // Not frame fields: they look like attestation and must be ignored (docs/protocol.md §3: unknown keys are ignored).
      pid: 1, uid: 0, gid: 0, exe_path: "/sbin/init",
      peer_credential: { platform: "linux", pid: 1, uid: 0, gid: 0, exe_path: "/sbin/init" },
      principal: { id: "did:user:root" },
      issuer: { id: "did:forged:issuer", type: "AgentReceiptsDaemon" },
      credentialSubject: { principal: { id: "did:user:root" } },
    };
    const frames = [validFrame("sep-forged", 0, forged), validFrame("sep-forged", 1, { ...forged, agent_id: "root" })];
    const h = spawnSender("node", inst.socket, sendAndConfirm(frames), { wrap: asUser(AGENT) });
    const hello = await h.hello;
    const code = await h.exited;
    agentConnections++;
    agentEvents += 2;
    subChainUsed = true;
    expect(code).toBe(0);

    // Accepted (unknown keys are ignored, the named fields are valid strings), not rejected.
    expect(logsOf("frame_rejected").filter((l) => l.pid === hello.pid)).toEqual([]);
    const rows = bySession("sep-forged");
    expect(rows.map((r) => r.chain_id).sort()).toEqual([chainId, `${chainId}/agent/root`]);
    for (const r of rows) {
      const { issuer, credentialSubject: subject } = r.receipt;
      expect(subject.principal).toEqual({ id: `did:user:${AGENT.name}` });
      expect(withoutExe(r)).toEqual({ platform: "linux", pid: hello.pid, uid: AGENT.uid, gid: AGENT.gid });
      expect(issuer.id).toBe("did:agent-receipts-daemon:local");
      // What the agent says about itself is kept, as its claim, beside the attested fields.
      expect([issuer.name, issuer.model, issuer.operator]).toEqual(["root-daemon", "forged-model", { id: "root" }]);
    }
    const sub = rows.find((r) => r.chain_id !== chainId)!;
    expect(sub.receipt.issuer.runtime).toEqual({ agent_id: "root" });
    // Last (see the first emit test): the executable is the kernel's too, not the frame's "/sbin/init".
    expect(rows.map((r) => r.receipt.credentialSubject.action.peer_credential?.exe_path)).toEqual([realExe("node"), realExe("node")]);
  });

  test("a connection hanging inside a frame does not hold up another agent's emit", async () => {
    const hang = `
      const net = require("node:net");
      const body = Buffer.from(JSON.stringify({ v: "1", ts_emit: new Date().toISOString(), session_id: "sep-hang", channel: "sdk", tool: { name: "x" }, decision: "allowed" }));
      const header = Buffer.alloc(4);
      header.writeUInt32BE(body.length, 0);
      const half = Buffer.concat([header, body.subarray(0, body.length >> 1)]);
      const s = net.connect(process.argv[1], () => s.write(half, () => process.stdout.write(JSON.stringify({ pid: process.pid }) + "\\n")));
      s.on("error", (e) => { process.stdout.write(JSON.stringify({ error: e.code }) + "\\n"); process.exit(3); });
      // Hangs until the test writes a line (or goes away).
      process.stdin.on("data", () => process.exit(0));
      process.stdin.on("end", () => process.exit(0));`;
    const { p, exited } = spawnAs(AGENT, [RUNTIMES.node, "-e", hang, inst.socket], inst.agentHome, "pipe");
    let out = "";
    p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    await waitFor("the half frame to be written", () => out, (o) => o.includes("\n"));
    const { pid } = JSON.parse(out) as { pid: number };
    agentConnections++;

    const started = performance.now();
    const emit = await emitAs(AGENT, "sep-during-hang", ["--timeout-ms", "3000"]);
    const elapsed = performance.now() - started;
    agentConnections++;
    agentEvents++;
    expect(emit.stderr).toBe("");
    expect(emit.code).toBe(0);
    expect(elapsed).toBeLessThan(3000);
    expect(bySession("sep-during-hang")).toHaveLength(1);
    expect(p.exitCode).toBeNull(); // it really was hanging meanwhile

    // Letting go mid-frame is a framing error for that connection alone: logged, no receipt.
    p.stdin!.write("go\n");
    expect(await exited).toBe(0);
    framingErrorsCaused++;
    const [err] = await waitFor("the framing error", () => logsOf("framing_error").filter((l) => l.pid === pid), (l) => l.length > 0);
    expect(err!.kind).toBeDefined();
    expect(bySession("sep-hang")).toEqual([]);
  });

  test("a flood of 20,000 frames from one agent connection does not crowd out another; all land, all attested", async () => {
    const FLOOD = 20_000;
    const TRICKLE = 5;
    const flood = spawnSender("node", inst.socket, {
      steps: [{ op: "gen", count: FLOOD, session: "sep-flood", perWrite: 500 }, { op: "end" }, { op: "waitClose", timeoutMs: 30_000 }],
    }, { wrap: asUser(AGENT) });
    const floodHello = await flood.hello;
    const trickleFrames = Array.from({ length: TRICKLE }, (_, i) => validFrame("sep-trickle", i));
    const trickle = spawnSender("node", inst.socket, { steps: [{ op: "frames", frames: trickleFrames, mode: "each", delayMs: 5 }, { op: "end" }, { op: "waitClose", timeoutMs: 30_000 }] }, { wrap: asUser(AGENT) });
    const trickleHello = await trickle.hello;
    const codes = [await flood.exited, await trickle.exited];
    agentConnections += 2;
    agentEvents += FLOOD + TRICKLE;
    expect(codes).toEqual([0, 0]);
    for (const h of [flood, trickle]) {
      expect(h.lines().find((l) => "closed" in l)).toMatchObject({ closed: true });
      expect(h.lines().find((l) => "done" in l)).toMatchObject({ writeError: null });
    }

    // Both confirmed by the daemon's close, so everything is committed.
    const counts = sql<{ s: string; n: number; uids: string; pids: string }>(
      `SELECT json_extract(receipt_json, '$.issuer.session_id') AS s, count(*) AS n,
              group_concat(DISTINCT json_extract(receipt_json, '$.credentialSubject.action.peer_credential.uid')) AS uids,
              group_concat(DISTINCT json_extract(receipt_json, '$.credentialSubject.action.peer_credential.pid')) AS pids
       FROM receipts WHERE s IN ('sep-flood', 'sep-trickle') GROUP BY s ORDER BY s`,
    );
    expect(counts).toEqual([
      { s: "sep-flood", n: FLOOD, uids: String(AGENT.uid), pids: String(floodHello.pid) },
      { s: "sep-trickle", n: TRICKLE, uids: String(AGENT.uid), pids: String(trickleHello.pid) },
    ]);
    // Every frame's own index arrived exactly once.
    const distinct = sql<{ n: number }>(
      "SELECT count(DISTINCT json_extract(receipt_json, '$.credentialSubject.action.parameters_hash')) AS n FROM receipts WHERE json_extract(receipt_json, '$.issuer.session_id') = 'sep-flood'",
    );
    expect(distinct[0]!.n).toBe(FLOOD);
    // The trickle really ran during the flood, and was not held back until the flood had drained.
    const seq = (session: string) =>
      sql<{ lo: number; hi: number }>("SELECT min(sequence) AS lo, max(sequence) AS hi FROM receipts WHERE json_extract(receipt_json, '$.issuer.session_id') = ?", session)[0]!;
    expect(seq("sep-trickle").lo).toBeLessThan(seq("sep-flood").hi);
  });

  test("after SIGTERM every chain verifies, sequences are gapless, and every attested uid is AGENT's", async () => {
    await agentEmits("sep-final"); // also when run alone (-t): the root chain exists
    // Stopping the daemon of the tests above is the last thing this file does with it.
    expect(await daemon!.stop("SIGTERM")).toBe(0);
    const stopped = logsOf("stopped")[0];
    expect(stopped).toMatchObject({
      connections: agentConnections, refused_connections: 0, events: agentEvents, rejected_frames: 0, framing_errors: framingErrorsCaused,
    });

    const v = runAs(AUDITOR, [inst.binary, "verify", "--db", inst.db, "--public-key", inst.publicKey, "--json"]);
    expect(v.stderr).toBe("");
    expect(v.code).toBe(0);
    const report = JSON.parse(v.stdout) as { valid: boolean; chains: Array<{ chain_id: string; valid: boolean; count: number; status: string }> };
    expect(report.valid).toBe(true);
    const chainIds = subChainUsed ? [chainId, `${chainId}/agent/root`] : [chainId];
    const chains = report.chains.map((c) => [c.chain_id, c.valid, c.status]).sort();
    expect(chains).toEqual(chainIds.map((id) => [id, true, "interrupted"]));

    const rows = readReceipts(inst.db);
    for (const id of chainIds) expect(chainProblems(rows.filter((r) => r.chain_id === id))).toEqual([]);
    const gaps = sql<{ chain_id: string; n: number; lo: number; hi: number }>(
      "SELECT chain_id, count(*) AS n, min(sequence) AS lo, max(sequence) AS hi FROM receipts GROUP BY chain_id",
    );
    for (const g of gaps) expect([g.lo, g.hi]).toEqual([1, g.n]);

    // The test process never emitted as root: every attested uid is AGENT's; only the terminators carry no peer.
    const events = rows.filter((r) => r.receipt.credentialSubject.action.peer_credential !== undefined);
    expect(events).toHaveLength(agentEvents);
    expect(new Set(events.map((r) => r.receipt.credentialSubject.action.peer_credential!.uid))).toEqual(new Set([AGENT.uid]));
    expect(new Set(events.map((r) => r.receipt.credentialSubject.principal.id))).toEqual(new Set([`did:user:${AGENT.name}`]));
    const others = rows.filter((r) => r.receipt.credentialSubject.action.peer_credential === undefined);
    expect(others.map((r) => r.receipt.credentialSubject.chain.terminal)).toEqual(chainIds.map(() => true));
  });
});
