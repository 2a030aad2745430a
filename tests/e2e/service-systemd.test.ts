// `service install --system` for real: systemd runs as PID 1 of a private
// namespace (CI containers are not booted with it), the compiled binary
// installs the shipped unit, sysusers and tmpfiles files, and the daemon must
// start under every hardening option of the unit, take an agent's event with
// kernel-attested peer fields, come back after a crash, and leave verifiable
// receipts after `service uninstall`. Needs root; refuses to touch a machine
// that already has a system install.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeSystemInstall, SystemdSandbox, systemInstallPresent } from "../../scripts/lib/systemd-sandbox.ts";
import { BINARY as BUILT, tempDir } from "../helpers/fixtures.ts";
import { asUser, OsUsers, type OsUser } from "../helpers/os-users.ts";
import { readReceipts, waitFor } from "../daemon/support.ts";

const why = SystemdSandbox.unavailable() ?? (systemInstallPresent() ? "this machine already has a system install" : null);
// The unit hides /tmp and home directories (PrivateTmp, ProtectHome), and a checkout may be in either:
// install a copy where an operator would, as `service install` requires.
const BIN_DIR = `/opt/agent-receipts-test-${process.pid}`;
const BINARY = join(BIN_DIR, "agent-receipts");
const DB = "/var/lib/agentreceipts/receipts.db";
const PUB = "/var/lib/agentreceipts/signing.key.pub";
const SOCKET = "/run/agentreceipts/events.sock";

let sandbox: SystemdSandbox | undefined;
const users = new OsUsers();
let agent: OsUser;
let auditor: OsUser;

function inside(argv: string[], input?: string): { code: number; out: string; err: string } {
  const r = sandbox!.exec(argv, { input });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function status(): { running: boolean; state: string; pid: number | null; socket_state: string; enabled: string } {
  return JSON.parse(inside([BINARY, "service", "status", "--system", "--json"]).out);
}

function procStatus(pid: number): Record<string, string> {
  const text = inside(["cat", `/proc/${pid}/status`]).out;
  return Object.fromEntries(text.trim().split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]));
}

function modeOf(path: string): string {
  const st = statSync(path);
  const name = (id: number, db: "passwd" | "group") => spawnSync("getent", [db, String(id)], { encoding: "utf8" }).stdout.split(":")[0];
  return `${(st.mode & 0o7777).toString(8).padStart(4, "0")} ${name(st.uid, "passwd")}:${name(st.gid, "group")}`;
}

// The sandbox shares the host's files: its boot must not clean the host's /tmp (where checkouts and test files live).
const canary = join(tempDir("ar-canary-"), "still-here");

beforeAll(async () => {
  if (why !== null) return;
  writeFileSync(canary, "");
  mkdirSync(BIN_DIR, { mode: 0o755 });
  copyFileSync(BUILT, BINARY);
  chmodSync(BINARY, 0o755);
  sandbox = await SystemdSandbox.boot();
});

afterAll(async () => {
  await sandbox?.shutdown();
  users.cleanup();
  if (sandbox !== undefined) removeSystemInstall();
  rmSync(BIN_DIR, { recursive: true, force: true });
});

describe.skipIf(why !== null)(`service install --system under a real systemd${why ? ` (skipped: ${why})` : ""}`, () => {
  test("booting the sandbox left the host's /tmp alone", () => {
    expect(existsSync(canary)).toBe(true);
  });

  test("a missing binary, or one the unit could not see (under /tmp or a home directory), is refused before anything is written", () => {
    const inTmp = join(tempDir("ar-bin-"), "agent-receipts");
    copyFileSync(BUILT, inTmp);
    chmodSync(inTmp, 0o755);
    const refused = inside([BINARY, "service", "install", "--system", "--binary", inTmp]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("which the unit's PrivateTmp=/ProtectHome= hide from the service");
    const missing = inside([BINARY, "service", "install", "--system", "--binary", "/nonexistent/agent-receipts"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("binary /nonexistent/agent-receipts does not exist");
    expect(existsSync("/etc/systemd/system/agent-receipts.service")).toBe(false);
  });

  test("install creates the accounts, directories and files with their modes, and starts the hardened unit", () => {
    const r = inside([BINARY, "service", "install", "--system", "--binary", BINARY]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("9/9 ran systemctl restart agent-receipts.service");
    expect(r.out).toMatch(/the daemon is running \(pid \d+\) and accepting connections on \/run\/agentreceipts\/events.sock/);
    const s = status();
    expect(s).toMatchObject({ running: true, state: "active (running)", socket_state: "accepting", enabled: "enabled" });
    expect(modeOf("/etc/agentreceipts")).toBe("0700 agentreceipts:agentreceipts");
    expect(modeOf("/etc/agentreceipts/signing.key")).toBe("0600 agentreceipts:agentreceipts-read");
    expect(modeOf("/etc/agentreceipts/daemon.toml")).toBe("0600 agentreceipts:agentreceipts");
    expect(modeOf("/var/lib/agentreceipts")).toBe("0750 agentreceipts:agentreceipts-read");
    expect(modeOf(DB)).toBe("0640 agentreceipts:agentreceipts-read");
    expect(modeOf(PUB)).toBe("0644 agentreceipts:agentreceipts-read");
    // /run is the namespace's own: look at the socket from inside.
    expect(inside(["stat", "-c", "%a %U:%G", "/run/agentreceipts", SOCKET]).out.trim().split("\n")).toEqual([
      "750 agentreceipts:agentreceipts-emit", "660 agentreceipts:agentreceipts-emit",
    ]);
  });

  test("the daemon runs confined: its own user, no new privileges, a seccomp filter, only CAP_SYS_PTRACE", () => {
    const pid = status().pid!;
    const p = procStatus(pid);
    const uid = Number(spawnSync("id", ["-u", "agentreceipts"], { encoding: "utf8" }).stdout);
    expect(p.Uid!.split(/\s+/).map(Number)).toEqual([uid, uid, uid, uid]);
    expect(p.NoNewPrivs).toBe("1");
    expect(p.Seccomp).toBe("2");
    expect(BigInt(`0x${p.CapEff}`)).toBe(1n << 19n); // CAP_SYS_PTRACE is capability 19
    expect(BigInt(`0x${p.CapBnd}`)).toBe(1n << 19n);
  });

  test("an agent in agentreceipts-emit emits; the receipt carries its kernel-attested uid, pid and executable", async () => {
    // The shipped groups exist now; the test's users join them.
    agent = users.user("agent", ["agentreceipts-emit"]);
    auditor = users.user("auditor", ["agentreceipts-read"]);
    const r = inside([...asUser(agent), BINARY, "emit", "--socket", SOCKET, "--tool", "read_file", "--input", '{"path":"/etc/hosts"}', "--session", "svc-agent"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const rows = await waitFor("the agent's receipt", () => readReceipts(DB), (rows) => rows.some((x) => x.receipt.issuer.session_id === "svc-agent"));
    const receipt = rows.find((x) => x.receipt.issuer.session_id === "svc-agent")!.receipt;
    expect(receipt.credentialSubject.principal.id).toBe(`did:user:${agent.name}`);
    expect(receipt.credentialSubject.action.peer_credential).toMatchObject({ platform: "linux", uid: agent.uid, gid: agent.gid, exe_path: BINARY });
    // A user outside the emit group cannot even reach the socket.
    const denied = inside([...asUser(auditor), BINARY, "emit", "--socket", SOCKET, "--tool", "read_file", "--timeout-ms", "500"]);
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/EACCES|permission/i);
  });

  test("a crashed daemon is restarted by systemd and its chain goes on", async () => {
    const before = status().pid!;
    inside(["kill", "-KILL", String(before)]);
    const after = await waitFor("the restarted daemon", status, (s) => s.running && s.pid !== before, 15_000);
    expect(after.state).toBe("active (running)");
    const r = inside([...asUser(agent), BINARY, "emit", "--socket", SOCKET, "--tool", "write_file", "--session", "svc-after-crash"]);
    expect(r.code).toBe(0);
    await waitFor("the post-crash receipt", () => readReceipts(DB), (rows) => rows.some((x) => x.receipt.issuer.session_id === "svc-after-crash"));
  });

  test("installing again keeps daemon.toml and restarts on the same key", () => {
    const key = inside(["cat", PUB]).out;
    const r = inside([BINARY, "service", "install", "--system", "--binary", BINARY]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("kept existing /etc/agentreceipts/daemon.toml");
    expect(status().running).toBe(true);
    expect(inside(["cat", PUB]).out).toBe(key);
  });

  test("service install --user runs the per-user unit under the user's own systemd, on the default socket", () => {
    const alice = users.user("user", [], { home: true });
    expect(inside(["systemctl", "start", `user@${alice.uid}.service`]).code).toBe(0);
    const env = ["env", `XDG_RUNTIME_DIR=/run/user/${alice.uid}`, `HOME=${alice.home}`, "PATH=/usr/bin:/bin"];
    const asAlice = (...args: string[]) => inside([...asUser(alice), ...env, BINARY, ...args]);
    const install = asAlice("service", "install", "--user", "--binary", BINARY);
    expect(install.err).toBe("");
    expect(install.code).toBe(0);
    expect(install.out).toContain(`accepting connections on /run/user/${alice.uid}/agentreceipts/events.sock`);
    // The emitter finds the socket with no configuration at all.
    expect(asAlice("emit", "--tool", "read_file", "--session", "user-unit").code).toBe(0);
    const db = `${alice.home}/.local/share/agent-receipts/receipts.db`;
    expect(readReceipts(db).map((r) => r.receipt.credentialSubject.action.peer_credential?.uid)).toEqual([alice.uid]);
    // The daemon of this user takes no other user's events (only its own uid and root).
    const other = inside([...asUser(agent), ...env, BINARY, "emit", "--tool", "x", "--socket", `/run/user/${alice.uid}/agentreceipts/events.sock`, "--timeout-ms", "500"]);
    expect(other.code).toBe(1);
    const uninstall = asAlice("service", "uninstall", "--user");
    expect(uninstall.code).toBe(0);
    expect(asAlice("service", "status", "--user").code).toBe(3);
  });

  test("uninstall stops and removes the unit, keeps the receipts, and an auditor verifies them", async () => {
    const r = inside([BINARY, "service", "uninstall", "--system"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("removed /etc/systemd/system/agent-receipts.service");
    const s = inside([BINARY, "service", "status", "--system"]);
    expect(s.code).toBe(3);
    expect(s.out).toContain("not installed");
    const v = spawnSync(asUser(auditor)[0]!, [...asUser(auditor).slice(1), BINARY, "verify", "--db", DB, "--public-key", PUB, "--json"], { encoding: "utf8" });
    expect(v.stderr).toBe("");
    expect(v.status).toBe(0);
    const report = JSON.parse(v.stdout) as { valid: boolean; chains: Array<{ valid: boolean; count: number }> };
    expect(report.valid).toBe(true);
    expect(report.chains.reduce((n, c) => n + c.count, 0)).toBeGreaterThanOrEqual(2);
  });
});
