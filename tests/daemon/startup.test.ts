// Start-up rules of the compiled daemon (docs/protocol.md §2, §9; issue 3 items 1, 8,
// 9, 10): socket path policy, stale and live sockets, key files, file modes,
// `keys init` / `keys show`, configuration precedence and the version flags.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { createHash, createPublicKey } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/fixtures.ts";
import { startDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { killSenders, BIND_AND_HANG, launchDaemon, readReceipts, runCli, runSender, sendAndConfirm, tempDir, validFrame, type Launched } from "./support.ts";

setDefaultTimeout(30_000);

const running: Array<DaemonHandle | Launched> = [];
afterAll(async () => {
  killSenders();
  for (const d of running) await d.stop("SIGKILL");
});

async function daemon(opts: Parameters<typeof startDaemon>[0] = {}): Promise<DaemonHandle> {
  const d = await startDaemon(opts);
  running.push(d);
  return d;
}

/** Launches with explicit paths in `dir`; returns the handle (it may have exited). */
async function launch(dir: string, extra: string[] = [], env: Record<string, string | undefined> = {}, cwd?: string) {
  const h = await launchDaemon(["--db", join(dir, "receipts.db"), "--key", join(dir, "signing.key"), ...extra], env, cwd === undefined ? {} : { cwd });
  running.push(h);
  return h;
}

/** The daemon must refuse: exit 2, no "listening", and a start_failed line whose error matches. */
async function expectRefused(h: Launched & { listening: boolean }, message: RegExp): Promise<string> {
  expect(h.listening).toBe(false);
  expect(await h.exited).toBe(2);
  const failed = h.logs().find((l) => l.event === "start_failed");
  expect(failed).toBeDefined();
  expect(String(failed!.error)).toMatch(message);
  return String(failed!.error);
}

const mode = (p: string) => lstatSync(p).mode & 0o777;

/** Fingerprint computed independently: sha256 of the raw 32-byte Ed25519 public key. */
function fingerprintOfPem(pem: string): string {
  const jwk = createPublicKey(pem).export({ format: "jwk" }) as { x: string };
  const raw = Buffer.from(jwk.x, "base64url");
  expect(raw.length).toBe(32);
  return `sha256:${createHash("sha256").update(raw).digest("hex")}`;
}

function keysInit(key: string, extra: string[] = []) {
  return runCli(["keys", "init", "--key", key, ...extra]);
}

describe("the socket", () => {
  test("a second daemon on the same socket is refused (exit 2, message) and the first keeps its socket", async () => {
    const first = await daemon();
    const other = tempDir("ar-second-");
    const second = await launch(other, ["--socket", first.socket, "--unsafe-socket-path"]);
    await expectRefused(second, /another daemon is already listening/);
    expect(lstatSync(first.socket).isSocket()).toBe(true);
    await runSender("node", first.socket, sendAndConfirm([validFrame("still-first", 0)]));
    expect(readReceipts(first.db).map((r) => r.receipt.issuer.session_id)).toEqual(["still-first"]);
  });

  test("a stale socket (its listener killed with -9) is removed and the daemon starts", async () => {
    const dir = tempDir("ar-stale-");
    const runDir = join(dir, "run");
    mkdirSync(runDir, { mode: 0o750 });
    const sock = join(runDir, "events.sock");
    const binder = spawn(process.execPath, [BIND_AND_HANG, sock], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => binder.stdout!.once("data", () => resolve()));
    binder.kill("SIGKILL");
    await new Promise((resolve) => binder.once("exit", resolve));
    expect(lstatSync(sock).isSocket()).toBe(true); // left behind, nobody listening

    const d = await daemon({ dir });
    expect(d.socket).toBe(sock);
    await runSender("bun", d.socket, sendAndConfirm([validFrame("after-stale", 0)]));
    expect(readReceipts(d.db)).toHaveLength(1);
  });

  test("a non-socket file at the socket path is refused and left alone", async () => {
    const dir = tempDir("ar-notsock-");
    const sock = join(dir, "events.sock");
    writeFileSync(sock, "keep me");
    const h = await launch(dir, ["--socket", sock, "--unsafe-socket-path"]);
    await expectRefused(h, /not a socket/);
    expect(readFileSync(sock, "utf8")).toBe("keep me");
  });

  test.each(["127.0.0.1:9000", "tcp://x:1", ":9000", "[::1]:9000", "localhost:80"])(
    "TCP-looking socket path %p is refused before anything is created",
    async (path) => {
      const dir = tempDir("ar-tcp-");
      const h = await launch(dir, ["--socket", path, "--unsafe-socket-path"], {}, dir);
      await expectRefused(h, /TCP/);
      expect(existsSync(join(dir, "signing.key"))).toBe(false);
      expect(existsSync(join(dir, "receipts.db"))).toBe(false);
      expect(existsSync(join(dir, path))).toBe(false);
    },
  );

  test("TCP-looking paths are refused from the environment and the config file too", async () => {
    const dir = tempDir("ar-tcp-env-");
    await expectRefused(await launch(dir, ["--unsafe-socket-path"], { AGENTRECEIPTS_SOCKET: "127.0.0.1:9000" }), /TCP/);
    writeFileSync(join(dir, "daemon.toml"), 'socket = "tcp://x:1"\nunsafe_socket_path = true\n');
    await expectRefused(await launch(dir, ["--config", join(dir, "daemon.toml")]), /TCP/);
  });

  test("a socket outside the safe roots is refused without --unsafe-socket-path, and warned about with it", async () => {
    const dir = tempDir("ar-unsafe-");
    const sock = join(dir, "s", "events.sock");
    const env = { XDG_RUNTIME_DIR: join(dir, "xdg-run") };
    await expectRefused(await launch(dir, ["--socket", sock], env), /outside the safe roots/);
    const h = await launch(dir, ["--socket", sock, "--unsafe-socket-path"], env);
    expect(h.listening).toBe(true);
    expect(h.logs().find((l) => l.event === "unsafe_socket_path")).toMatchObject({ level: "warn", socket: sock });
  });

  test("socket 0660 in a 0750 directory (created, or tightened when it was looser); removed on exit", async () => {
    const dir = tempDir("ar-modes-");
    const fresh = join(dir, "a", "b", "events.sock");
    const h1 = await launch(dir, ["--socket", fresh, "--unsafe-socket-path"]);
    expect(h1.listening).toBe(true);
    expect(lstatSync(fresh).isSocket()).toBe(true);
    expect(mode(fresh)).toBe(0o660);
    expect(mode(join(dir, "a", "b"))).toBe(0o750);
    expect(await h1.stop()).toBe(0);
    expect(existsSync(fresh)).toBe(false);

    const loose = join(dir, "loose");
    mkdirSync(loose);
    chmodSync(loose, 0o777);
    const h2 = await launch(dir, ["--socket", join(loose, "events.sock"), "--unsafe-socket-path"]);
    expect(h2.listening).toBe(true);
    expect(mode(join(loose, "events.sock"))).toBe(0o660);
    expect(mode(loose)).toBe(0o750);
    expect(await h2.stop()).toBe(0);
  });
});

describe("database files", () => {
  test("database, -wal and -shm are at most 0640, and a looser database is tightened at start", async () => {
    const dir = tempDir("ar-dbmode-");
    const d1 = await daemon({ dir });
    await runSender("node", d1.socket, sendAndConfirm([validFrame("modes", 0)]));
    for (const f of [d1.db, `${d1.db}-wal`, `${d1.db}-shm`]) {
      expect(existsSync(f)).toBe(true);
      expect(mode(f) & ~0o640).toBe(0);
    }
    expect(await d1.stop()).toBe(0);
    chmodSync(d1.db, 0o666);
    const d2 = await daemon({ dir });
    for (const f of [d2.db, `${d2.db}-wal`, `${d2.db}-shm`]) if (existsSync(f)) expect(mode(f) & ~0o640).toBe(0);
    expect(mode(d2.db) & ~0o640).toBe(0);
  });

  test("a symlinked database is refused", async () => {
    const dir = tempDir("ar-dblink-");
    writeFileSync(join(dir, "real.db"), "");
    symlinkSync(join(dir, "real.db"), join(dir, "receipts.db"));
    await expectRefused(await launch(dir, ["--socket", join(dir, "s.sock"), "--unsafe-socket-path"]), /symlink/);
  });
});

describe("permissions at start", () => {
  test.skipIf(process.getuid?.() !== 0)("a database the daemon's user cannot reach: exit 2, naming the path, the uid and the fix", async () => {
    const dir = tempDir("ar-perm-");
    const data = join(dir, "data");
    mkdirSync(data, { mode: 0o700 }); // root's, so uid 65534 cannot enter it
    chmodSync(dir, 0o755);
    const d = await launchDaemon(
      ["--db", join(data, "receipts.db"), "--key", join(dir, "k"), "--socket", join(dir, "s.sock"), "--unsafe-socket-path"],
      {}, { wrap: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] },
    );
    expect(d.listening).toBe(false);
    expect(await d.exited).toBe(2);
    const failed = d.logs().find((l) => l.event === "start_failed");
    expect(String(failed?.error)).toMatch(new RegExp(`^permission denied on ${join(data, "receipts.db")} \\(\\w+\\): the daemon runs as uid 65534 gid 65534\\. Check the owner and mode`));
    expect(d.stderr()).not.toMatch(/\n\s+at /);
  });
});

describe("the signing key at start", () => {
  const sockArgs = (dir: string) => ["--socket", join(dir, "run", "events.sock"), "--unsafe-socket-path"];

  test("a fresh install creates the key pair (0600 / 0644) and logs its fingerprint", async () => {
    const d = await daemon();
    expect(mode(d.key)).toBe(0o600);
    expect(mode(d.publicKey)).toBe(0o644);
    const fp = fingerprintOfPem(readFileSync(d.publicKey, "utf8"));
    expect(d.logs().find((l) => l.event === "key_created")).toMatchObject({ key: d.key, fingerprint: fp });
    expect(d.logs().find((l) => l.event === "started")).toMatchObject({ fingerprint: fp });
    // Never a key in the logs.
    expect(d.stderr()).not.toContain("PRIVATE KEY");
    expect(d.stderr()).not.toContain(readFileSync(d.key, "utf8").split("\n")[1]!);
  });

  test("quick start: `agent-receipts daemon` with no flags creates 0750 data and socket directories, the key pair and the database", async () => {
    const dir = tempDir("ar-quick-");
    const xdgData = join(dir, "share");
    const xdgRun = join(dir, "user-run");
    mkdirSync(xdgRun, { mode: 0o700 });
    const h = await launchDaemon([], { XDG_DATA_HOME: xdgData, XDG_RUNTIME_DIR: xdgRun });
    running.push(h);
    expect(h.listening).toBe(true);
    const data = join(xdgData, "agent-receipts");
    const sock = join(xdgRun, "agentreceipts", "events.sock");
    expect(h.logs().find((l) => l.event === "unsafe_socket_path")).toBeUndefined();
    expect(mode(data)).toBe(0o750);
    expect(mode(join(xdgRun, "agentreceipts"))).toBe(0o750);
    expect(mode(sock)).toBe(0o660);
    expect(mode(join(data, "signing.key"))).toBe(0o600);
    expect(mode(join(data, "signing.key.pub"))).toBe(0o644);
    expect(h.logs().find((l) => l.event === "started")).toMatchObject({ socket: sock, db: join(data, "receipts.db"), key: join(data, "signing.key") });
    await runSender("node", sock, sendAndConfirm([validFrame("quick", 0)]));
    expect(readReceipts(join(data, "receipts.db")).map((r) => r.receipt.issuer.session_id)).toEqual(["quick"]);
    expect(await h.stop()).toBe(0);
  });

  test.each([0o640, 0o604, 0o660, 0o644])("a key with mode %o is refused", async (m) => {
    const dir = tempDir("ar-keymode-");
    expect(keysInit(join(dir, "signing.key")).code).toBe(0);
    chmodSync(join(dir, "signing.key"), m);
    const h = await launch(dir, sockArgs(dir));
    await expectRefused(h, /mode|chmod/);
    expect(existsSync(join(dir, "run", "events.sock"))).toBe(false);
  });

  test("a key file over 16 KiB, a directory or a FIFO at the key path is refused", async () => {
    const big = tempDir("ar-keybig-");
    expect(keysInit(join(big, "signing.key")).code).toBe(0);
    writeFileSync(join(big, "signing.key"), `${readFileSync(join(big, "signing.key"), "utf8")}${"\n".repeat(16 * 1024)}`);
    chmodSync(join(big, "signing.key"), 0o600);
    await expectRefused(await launch(big, sockArgs(big)), /16384|bytes/);

    const asDir = tempDir("ar-keydir-");
    mkdirSync(join(asDir, "signing.key"), { mode: 0o700 });
    await expectRefused(await launch(asDir, sockArgs(asDir)), /not a regular file|symlink|directory/);

    const fifo = tempDir("ar-keyfifo-");
    expect(spawnSync("mkfifo", ["-m", "600", join(fifo, "signing.key")]).status).toBe(0);
    await expectRefused(await launch(fifo, sockArgs(fifo)), /not a regular file/);
  });

  test("a missing published key is written again (0644, same key) at start", async () => {
    const dir = tempDir("ar-republish-");
    const d1 = await daemon({ dir });
    const pem = readFileSync(d1.publicKey, "utf8");
    expect(await d1.stop()).toBe(0);
    rmSync(d1.publicKey);
    const d2 = await daemon({ dir });
    expect(readFileSync(d2.publicKey, "utf8")).toBe(pem);
    expect(mode(d2.publicKey)).toBe(0o644);
    expect(d2.logs().find((l) => l.event === "public_key_published")).toMatchObject({ fingerprint: fingerprintOfPem(pem) });
  });

  test("a symlinked key is refused", async () => {
    const dir = tempDir("ar-keylink-");
    expect(keysInit(join(dir, "real.key")).code).toBe(0);
    symlinkSync(join(dir, "real.key"), join(dir, "signing.key"));
    copyFileSync(join(dir, "real.key.pub"), join(dir, "signing.key.pub"));
    await expectRefused(await launch(dir, sockArgs(dir)), /symlink/);
  });

  test("a published key holding another key is refused and not overwritten", async () => {
    const dir = tempDir("ar-keypub-");
    const other = tempDir("ar-keypub-other-");
    expect(keysInit(join(dir, "signing.key")).code).toBe(0);
    expect(keysInit(join(other, "signing.key")).code).toBe(0);
    copyFileSync(join(other, "signing.key.pub"), join(dir, "signing.key.pub"));
    const before = readFileSync(join(dir, "signing.key.pub"), "utf8");
    await expectRefused(await launch(dir, sockArgs(dir)), /different key/);
    expect(readFileSync(join(dir, "signing.key.pub"), "utf8")).toBe(before);
  });

  test("a symlink at the published key path is refused", async () => {
    const dir = tempDir("ar-publink-");
    expect(keysInit(join(dir, "signing.key")).code).toBe(0);
    copyFileSync(join(dir, "signing.key.pub"), join(dir, "elsewhere.pub"));
    rmSync(join(dir, "signing.key.pub"));
    symlinkSync(join(dir, "elsewhere.pub"), join(dir, "signing.key.pub"));
    await expectRefused(await launch(dir, sockArgs(dir)), /symlink/);
  });

  test("an existing database without its key is refused, and no new key is created", async () => {
    const dir = tempDir("ar-nokey-");
    const d = await daemon({ dir });
    await runSender("node", d.socket, sendAndConfirm([validFrame("identity", 0)]));
    expect(await d.stop()).toBe(0);
    rmSync(d.key);
    const h1 = await launch(dir, sockArgs(dir));
    await expectRefused(h1, /missing/);
    expect(existsSync(d.key)).toBe(false);
    rmSync(d.publicKey);
    await expectRefused(await launch(dir, sockArgs(dir)), /missing/);
    expect(existsSync(d.key)).toBe(false);
    expect(existsSync(d.publicKey)).toBe(false);
  });
});

describe("keys init / keys show", () => {
  test("init creates 0600 / 0644 in a 0750 directory and prints the fingerprint; show prints the PEM and fingerprint", () => {
    const dir = tempDir("ar-keys-");
    const key = join(dir, "new", "dir", "signing.key");
    const r = keysInit(key);
    expect(r.code).toBe(0);
    expect(mode(key)).toBe(0o600);
    expect(mode(`${key}.pub`)).toBe(0o644);
    expect(mode(join(dir, "new", "dir"))).toBe(0o750);
    expect(readFileSync(key, "utf8")).toStartWith("-----BEGIN PRIVATE KEY-----\n");
    const pem = readFileSync(`${key}.pub`, "utf8");
    expect(pem).toStartWith("-----BEGIN PUBLIC KEY-----\n");
    const fp = fingerprintOfPem(pem);
    expect(r.stdout).toContain(fp);

    const show = runCli(["keys", "show", "--key", key]);
    expect(show.code).toBe(0);
    expect(show.stdout).toBe(`${pem}fingerprint ${fp}\n`);
    const json = runCli(["keys", "show", "--key", key, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ public_key: `${key}.pub`, fingerprint: fp, pem });
    expect(show.stdout + json.stdout).not.toContain("PRIVATE");
  });

  test("init never overwrites an existing key or public key", () => {
    const dir = tempDir("ar-keys-again-");
    const key = join(dir, "signing.key");
    expect(keysInit(key).code).toBe(0);
    const priv = readFileSync(key, "utf8");
    const pub = readFileSync(`${key}.pub`, "utf8");
    const again = keysInit(key);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    expect(readFileSync(key, "utf8")).toBe(priv);
    expect(readFileSync(`${key}.pub`, "utf8")).toBe(pub);
    // Only the public key left: still no overwrite.
    rmSync(key);
    const third = keysInit(key);
    expect(third.code).toBe(2);
    expect(existsSync(key)).toBe(false);
    expect(readFileSync(`${key}.pub`, "utf8")).toBe(pub);
  });

  test("init refuses a symlink at the key path (dangling or not) and writes nothing through it", () => {
    const dir = tempDir("ar-keys-link-");
    const target = join(dir, "target");
    const key = join(dir, "signing.key");
    symlinkSync(target, key); // dangling
    const r1 = keysInit(key);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/symlink/);
    expect(existsSync(target)).toBe(false);
    writeFileSync(target, "untouched");
    const r2 = keysInit(key);
    expect(r2.code).toBe(2);
    expect(readFileSync(target, "utf8")).toBe("untouched");

    const key2 = join(dir, "other.key");
    symlinkSync(join(dir, "pub-target"), `${key2}.pub`);
    const r3 = keysInit(key2);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/symlink/);
    expect(existsSync(join(dir, "pub-target"))).toBe(false);
  });
});

describe("configuration", () => {
  function printConfig(args: string[], env: Record<string, string | undefined> = {}): Record<string, unknown> {
    const r = runCli(["daemon", "--print-config", ...args], env);
    if (r.code !== 0) throw new Error(`--print-config exited ${r.code}: ${r.stderr}`);
    const out: Record<string, unknown> = {};
    for (const line of r.stdout.split("\n")) {
      const m = /^([a-z_]+) = (.*)$/.exec(line);
      if (m) out[m[1]!] = JSON.parse(m[2]!);
    }
    return out;
  }

  test("precedence: defaults < TOML file < environment < flags; empty env values count as unset", () => {
    const dir = tempDir("ar-config-");
    const file = join(dir, "daemon.toml");
    writeFileSync(file, [
      'socket = "/file/events.sock"', 'db = "/file/receipts.db"', 'key = "/file/signing.key"', 'chain_id = "from-file"',
      'issuer_id = "did:file"', 'verification_method = "did:file#k9"', 'log_format = "json"', "unsafe_socket_path = true",
      'allow_uids = ["alice", 1001]', 'allow_groups = [42]', 'socket_group = "from-file"',
      "checkpoint_every = 50", 'checkpoint_interval = "20s"', 'anchors = ["syslog", "file:anchors/cp.log"]', "",
    ].join("\n"));
    const env = {
      AGENTRECEIPTS_DB: "/env/receipts.db", AGENTRECEIPTS_KEY: "/env/signing.key", AGENTRECEIPTS_ISSUER_ID: "did:env",
      AGENTRECEIPTS_CHAIN_ID: "", AGENTRECEIPTS_VERIFICATION_METHOD: "did:env#k2",
    };
    const c = printConfig(
      ["--config", file, "--db", "/flag/receipts.db", "--log-format", "text", "--verification-method", "did:flag#k3", "--allow-groups", "agents, 7", "--socket-group", "9", "--checkpoint-interval", "2.5"],
      env,
    );
    expect(c).toEqual({
      socket: "/file/events.sock", // file
      db: "/flag/receipts.db", // flag over env over file
      key: "/env/signing.key", // env over file
      public_key: "/env/signing.key.pub", // derived from the effective key
      chain_id: "from-file", // empty env value is unset
      issuer_id: "did:env",
      verification_method: "did:flag#k3",
      unsafe_socket_path: true,
      log_format: "text",
      allow_uids: ["alice", 1001], // file
      allow_groups: ["agents", 7], // flag (a list; numeric entries become ids)
      socket_group: 9,
      transparency_log: true,
      checkpoint_every: 50, // file
      checkpoint_interval: 2.5, // flag over file
      anchors: ["syslog", `file:${join(dir, "anchors", "cp.log")}`], // a relative file anchor is relative to the config file
    });
  });

  test("defaults, and the config file found through AGENTRECEIPTS_CONFIG or <data dir>/daemon.toml", () => {
    const xdg = tempDir("ar-config-xdg-");
    const dataDir = join(xdg, "agent-receipts");
    const base = { XDG_DATA_HOME: xdg, XDG_RUNTIME_DIR: "/run/user/4242" };
    const defaults = printConfig([], base);
    expect(defaults).toEqual({
      socket: "/run/user/4242/agentreceipts/events.sock",
      db: join(dataDir, "receipts.db"),
      key: join(dataDir, "signing.key"),
      public_key: join(dataDir, "signing.key.pub"),
      issuer_id: "did:agent-receipts-daemon:local",
      verification_method: "did:agent-receipts-daemon:local#k1",
      unsafe_socket_path: false,
      log_format: "text",
      allow_uids: [],
      allow_groups: [],
      transparency_log: true,
      checkpoint_every: 1000,
      checkpoint_interval: 10,
      anchors: [],
    });
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "daemon.toml"), 'chain_id = "data-dir-file"\n');
    expect(printConfig([], base).chain_id).toBe("data-dir-file");
    const other = join(xdg, "other.toml");
    writeFileSync(other, 'chain_id = "env-file"\n');
    expect(printConfig([], { ...base, AGENTRECEIPTS_CONFIG: other }).chain_id).toBe("env-file");
    const flagFile = join(xdg, "flag.toml");
    writeFileSync(flagFile, 'chain_id = "flag-file"\n');
    expect(printConfig(["--config", flagFile], { ...base, AGENTRECEIPTS_CONFIG: other }).chain_id).toBe("flag-file");
  });

  test.each([
    ["unknown key", 'sockett = "/x"\n', "sockett"],
    ["unsafe_socket_path not a boolean", 'unsafe_socket_path = "yes"\n', "unsafe_socket_path"],
    ["chain_id not a string", "chain_id = 5\n", "chain_id"],
    ["chain_id with /", 'chain_id = "a/b"\n', "chain_id"],
    ["log_format unknown", 'log_format = "xml"\n', "log_format"],
    ["empty socket", 'socket = ""\n', "socket"],
    ["db an array", 'db = ["a"]\n', "db"],
    ["allow_uids not a list", 'allow_uids = "alice"\n', "allow_uids"],
    ["allow_uids with a negative id", "allow_uids = [-1]\n", "allow_uids"],
    ["allow_groups with a bad name", 'allow_groups = ["a b"]\n', "allow_groups"],
    ["socket_group a list", 'socket_group = ["x"]\n', "socket_group"],
  ])("config file with %s: exit 2 naming the key", (_name, toml, keyName) => {
    const dir = tempDir("ar-config-bad-");
    writeFileSync(join(dir, "daemon.toml"), toml);
    for (const extra of [["--print-config"], []]) {
      const r = runCli(["daemon", "--config", join(dir, "daemon.toml"), "--socket", join(dir, "s.sock"), "--db", join(dir, "r.db"), "--key", join(dir, "k"), ...extra]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`"${keyName}"`);
      expect(existsSync(join(dir, "k"))).toBe(false);
    }
  });

  test("malformed values from the environment and flags are errors naming them; invalid TOML and a missing --config file are errors", () => {
    const dir = tempDir("ar-config-bad2-");
    const env = runCli(["daemon", "--print-config"], { AGENTRECEIPTS_CHAIN_ID: "a/b" });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain("chain_id");
    expect(env.stderr).toContain("AGENTRECEIPTS_CHAIN_ID");
    const flag = runCli(["daemon", "--print-config", "--log-format", "xml"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("log-format");
    writeFileSync(join(dir, "bad.toml"), "socket = \n[[[");
    const toml = runCli(["daemon", "--print-config", "--config", join(dir, "bad.toml")]);
    expect(toml.code).toBe(2);
    expect(toml.stderr).toContain(join(dir, "bad.toml"));
    const missing = runCli(["daemon", "--print-config", "--config", join(dir, "nope.toml")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(join(dir, "nope.toml"));
  });

  test("--protocol-version prints exactly the supported frame versions", () => {
    const r = runCli(["daemon", "--protocol-version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"frame_version":{"min":1,"max":1}}\n');
  });

  test("daemon --version prints the package version", () => {
    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
    const r = runCli(["daemon", "--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });

  test("a daemon started from the config file uses its values", async () => {
    const dir = tempDir("ar-config-run-");
    const file = join(dir, "daemon.toml");
    writeFileSync(file, [
      `socket = "${join(dir, "run", "events.sock")}"`, `db = "${join(dir, "receipts.db")}"`, `key = "${join(dir, "signing.key")}"`,
      'chain_id = "cfg-chain"', 'issuer_id = "did:example:cfg"', "unsafe_socket_path = true", 'log_format = "json"', "",
    ].join("\n"));
    const h = await launchDaemon(["--config", file]);
    running.push(h);
    expect(h.listening).toBe(true);
    await runSender("node", join(dir, "run", "events.sock"), sendAndConfirm([validFrame("cfg", 0)]));
    const rows = readReceipts(join(dir, "receipts.db"));
    expect(rows.map((r) => [r.chain_id, r.receipt.issuer.id])).toEqual([["cfg-chain", "did:example:cfg"]]);
    expect(statSync(join(dir, "signing.key")).mode & 0o777).toBe(0o600);
  });
});
