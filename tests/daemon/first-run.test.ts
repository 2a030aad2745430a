// A first run as a new user would try it, and the permission rules the daemon
// enforces at start (issue 13 items 11 and 13, and relative paths of item 10):
// a non-root user without XDG_RUNTIME_DIR, root's leftover socket directory,
// directories and a public key left too open, a socket directory of another
// user, and relative paths in a config file. Compiled binary, real users.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, ROOT } from "../helpers/fixtures.ts";
import { IS_ROOT } from "../helpers/os-users.ts";
import { cleanEnv, launchDaemon, readReceipts, runCli, RUNTIMES, tempDir, type Launched } from "./support.ts";

setDefaultTimeout(30_000);

const running: Launched[] = [];
afterAll(async () => {
  for (const d of running) await d.stop("SIGKILL");
});

const NOBODY = { uid: 65534, gid: 65534 };
const AS_NOBODY = ["setpriv", `--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, "--clear-groups", "--"];
const SYSTEM_DIR = "/run/agentreceipts";
const mode = (p: string) => lstatSync(p).mode & 0o777;

/** A home directory for uid 65534 (which has none), reachable through /tmp. */
function nobodyHome(): string {
  const home = mkdtempSync(join(tmpdir(), "ar-home-"));
  chmodSync(home, 0o755);
  chownSync(home, NOBODY.uid, NOBODY.gid);
  return home;
}

/** The environment of a login without a runtime directory: HOME only. */
function noRuntimeDir(home: string): Record<string, string | undefined> {
  return { HOME: home, XDG_DATA_HOME: undefined, XDG_RUNTIME_DIR: undefined };
}

async function launch(args: string[], env: Record<string, string | undefined> = {}, opts: { cwd?: string; wrap?: string[] } = {}) {
  const d = await launchDaemon(args, env, opts);
  running.push(d);
  return d;
}

function startFailed(d: Launched): string {
  return String(d.logs().find((l) => l.event === "start_failed")?.error);
}

describe("first run as a user without XDG_RUNTIME_DIR", () => {
  // The per-user default applies only while no system daemon's directory exists.
  test.skipIf(!IS_ROOT || existsSync(SYSTEM_DIR))("`agent-receipts daemon` listens in the data directory, and `emit` and the Node emitter find it with no configuration", async () => {
    const home = nobodyHome();
    const env = noRuntimeDir(home);
    const data = join(home, ".local", "share", "agent-receipts");
    const sock = join(data, "events.sock");
    const d = await launch([], env, { wrap: AS_NOBODY });
    expect(startFailed(d)).toBe("undefined");
    expect(d.listening).toBe(true);
    expect(d.logs().find((l) => l.event === "started")).toMatchObject({ socket: sock, db: join(data, "receipts.db") });
    expect(d.logs().find((l) => l.event === "unsafe_socket_path")).toBeUndefined();
    expect(mode(data)).toBe(0o750);
    expect(mode(sock)).toBe(0o660);

    // The CLI emitter, as the same user in the same environment.
    const cli = spawnSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), BINARY, "emit", "--tool", "first_run", "--session", "cli"], { env: cleanEnv(env), encoding: "utf8" });
    expect(cli.stderr).toBe("");
    expect(cli.status).toBe(0);

    // The Node emitter, bundled from src/emitter as the package is, under Node.js.
    const bundle = await Bun.build({ entrypoints: [join(ROOT, "src", "emitter", "index.ts")], target: "node", format: "esm" });
    expect(bundle.success).toBe(true);
    const dir = join(home, "sdk");
    mkdirSync(dir);
    writeFileSync(join(dir, "emitter.mjs"), await bundle.outputs[0]!.text());
    writeFileSync(join(dir, "main.mjs"), `
      import { Emitter, resolveSocketPath } from "./emitter.mjs";
      const em = new Emitter({ channel: "sdk", sessionId: "node", strict: true });
      const delivered = await em.emit({ tool: { name: "first_run" }, decision: "allowed" });
      const confirmed = await em.close({ confirm: true, timeoutMs: 3000 });
      console.log(JSON.stringify({ socket: em.socketPath, resolved: resolveSocketPath(), delivered, confirmed }));
    `);
    for (const f of ["emitter.mjs", "main.mjs"]) chmodSync(join(dir, f), 0o644);
    chmodSync(dir, 0o755);
    const node = spawnSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), RUNTIMES.node, join(dir, "main.mjs")], { env: cleanEnv(env), encoding: "utf8" });
    expect(node.stderr).toBe("");
    expect(JSON.parse(node.stdout)).toEqual({ socket: sock, resolved: sock, delivered: true, confirmed: true });

    expect(readReceipts(join(data, "receipts.db")).map((r) => r.receipt.issuer.session_id)).toEqual(["cli", "node"]);
    expect(await d.stop()).toBe(0);
  });

  test.skipIf(!IS_ROOT || existsSync(SYSTEM_DIR))("root's leftover /run/agentreceipts: the user is told so and how to fix it, and nothing is created", async () => {
    const home = nobodyHome();
    mkdirSync(SYSTEM_DIR, { mode: 0o750 });
    try {
      const d = await launch([], noRuntimeDir(home), { wrap: AS_NOBODY });
      expect(d.listening).toBe(false);
      expect(await d.exited).toBe(2);
      const error = startFailed(d);
      expect(error).toContain(`socket directory ${SYSTEM_DIR} belongs to root`);
      expect(error).toContain("left by a daemon that ran as root");
      expect(error).toContain(`sudo rm -r ${SYSTEM_DIR}`);
      expect(error).toContain("XDG_RUNTIME_DIR or AGENTRECEIPTS_SOCKET");
      expect(d.stderr()).not.toMatch(/\n\s+at /);
      // Checked before anything is created: no key, no database.
      expect(existsSync(join(home, ".local"))).toBe(false);
    } finally {
      rmSync(SYSTEM_DIR, { recursive: true, force: true });
    }
  });

  test("a socket outside the safe roots: the message names each root once", async () => {
    const dir = tempDir("ar-roots-");
    const d = await launch(["--socket", join(dir, "s", "events.sock"), "--db", join(dir, "r.db"), "--key", join(dir, "k")], { XDG_RUNTIME_DIR: undefined });
    expect(await d.exited).toBe(2);
    const roots = /outside the safe roots \(([^)]*)\)/.exec(startFailed(d))![1]!.split(", ");
    expect(roots).toContain("/run");
    expect(roots.length).toBe(new Set(roots).size);
  });

  test("a socket path too long for a Unix socket is refused by name, before anything is created", async () => {
    const dir = tempDir("ar-long-");
    const sock = join(dir, "x".repeat(120), "events.sock");
    const d = await launch(["--socket", sock, "--unsafe-socket-path", "--db", join(dir, "r.db"), "--key", join(dir, "k")]);
    expect(await d.exited).toBe(2);
    expect(startFailed(d)).toMatch(/socket path .* is \d+ bytes; here it may have at most 106\. Choose a shorter path/);
    expect(existsSync(join(dir, "k"))).toBe(false);
  });
});

describe("permission rules at start", () => {
  test("a data directory at 0777 is tightened to 0750 (and logged); a 0755 one is left alone", async () => {
    const dir = tempDir("ar-open-");
    const open = join(dir, "open");
    const home = join(dir, "home");
    mkdirSync(open);
    chmodSync(open, 0o777);
    mkdirSync(home);
    chmodSync(home, 0o755);
    const d = await launch(["--socket", join(dir, "run", "events.sock"), "--unsafe-socket-path", "--db", join(open, "receipts.db"), "--key", join(home, "signing.key")]);
    expect(d.listening).toBe(true);
    expect(mode(open)).toBe(0o750);
    expect(mode(home)).toBe(0o755);
    expect(d.logs().find((l) => l.event === "directory_tightened")).toMatchObject({ path: open, from: "0777", to: "0750" });
    expect(await d.stop()).toBe(0);
  });

  test("signing.key.pub left at 0666 is published 0644 again at start", async () => {
    const dir = tempDir("ar-pubmode-");
    expect(runCli(["keys", "init", "--key", join(dir, "signing.key")]).code).toBe(0);
    chmodSync(join(dir, "signing.key.pub"), 0o666);
    const d = await launch(["--socket", join(dir, "run", "events.sock"), "--unsafe-socket-path", "--db", join(dir, "receipts.db"), "--key", join(dir, "signing.key")]);
    expect(d.listening).toBe(true);
    expect(mode(join(dir, "signing.key.pub"))).toBe(0o644);
    expect(await d.stop()).toBe(0);
  });

  test.skipIf(!IS_ROOT).each([0o777, 0o755])("a socket directory another user created (mode %o) is refused, naming its owner; nothing is created", async (m) => {
    const dir = tempDir("ar-foreign-");
    const run = join(dir, "run");
    mkdirSync(run);
    chmodSync(run, m);
    chownSync(run, NOBODY.uid, NOBODY.gid);
    const d = await launch(["--socket", join(run, "events.sock"), "--unsafe-socket-path", "--db", join(dir, "receipts.db"), "--key", join(dir, "signing.key")]);
    expect(d.listening).toBe(false);
    expect(await d.exited).toBe(2);
    expect(startFailed(d)).toMatch(new RegExp(`^socket directory ${run} belongs to (nobody \\(uid 65534\\)|uid 65534) \\(mode 0${m.toString(8)}\\), not to the daemon's uid 0: that user could replace the socket`));
    expect(existsSync(join(dir, "signing.key"))).toBe(false);
    expect(existsSync(join(run, "events.sock"))).toBe(false);
  });

  test.skipIf(!IS_ROOT)("a data directory of another user that everyone may write is refused, naming its owner", async () => {
    const dir = tempDir("ar-foreign-data-");
    const data = join(dir, "data");
    mkdirSync(data);
    chmodSync(data, 0o777);
    chownSync(data, NOBODY.uid, NOBODY.gid);
    const d = await launch(["--socket", join(dir, "run", "events.sock"), "--unsafe-socket-path", "--db", join(data, "receipts.db"), "--key", join(dir, "signing.key")]);
    expect(await d.exited).toBe(2);
    expect(startFailed(d)).toMatch(new RegExp(`^directory ${data} belongs to (nobody \\(uid 65534\\)|uid 65534) and is writable by every user \\(mode 0777\\)`));
    expect(existsSync(join(dir, "signing.key"))).toBe(false);
  });
});

describe("relative paths in a config file", () => {
  test("resolve against the config file's directory, not the working directory", async () => {
    const dir = tempDir("ar-relcfg-");
    const elsewhere = tempDir("ar-cwd-");
    const config = join(dir, "daemon.toml");
    writeFileSync(config, ['db = "data/receipts.db"', 'key = "keys/signing.key"', 'socket = "run/events.sock"', "unsafe_socket_path = true", ""].join("\n"));
    const printed = runCli(["daemon", "--print-config", "--config", config], {}, { cwd: elsewhere });
    expect(printed.stdout).toContain(`db = "${join(dir, "data", "receipts.db")}"`);
    expect(printed.stdout).toContain(`key = "${join(dir, "keys", "signing.key")}"`);
    expect(printed.stdout).toContain(`public_key = "${join(dir, "keys", "signing.key.pub")}"`);
    expect(printed.stdout).toContain(`socket = "${join(dir, "run", "events.sock")}"`);
    const d = await launch(["--config", config], {}, { cwd: elsewhere });
    expect(d.listening).toBe(true);
    expect(existsSync(join(dir, "data", "receipts.db"))).toBe(true);
    expect(readFileSync(join(dir, "keys", "signing.key.pub"), "utf8")).toContain("PUBLIC KEY");
    expect(existsSync(join(elsewhere, "data"))).toBe(false);
    expect(await d.stop()).toBe(0);
  });
});
