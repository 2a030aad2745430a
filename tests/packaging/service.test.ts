// The shipped service files and `service install --dry-run`: the dry run
// writes exactly what packaging/ ships, the units pass systemd-analyze, the
// plists parse, the scripts and configs are valid, and misuse gets a clear error.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, ROOT, tempDir } from "../helpers/fixtures.ts";
import { systemTool } from "../helpers/tools.ts";

const PACKAGING = join(ROOT, "packaging");
const SHIPPED_BINARY = "/usr/local/bin/agent-receipts";

interface PlanJson {
  action: string;
  scope: string;
  platform: string;
  steps: Array<{ kind: string; path?: string; mode?: string; content?: string; source?: string; argv?: string[]; stdin?: string; keep_existing?: boolean }>;
  notes: string[];
}

function cli(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(BINARY, args, { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/home/alice", ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function dryRun(args: string[], binary = SHIPPED_BINARY): PlanJson {
  const r = cli(["service", ...args, "--dry-run", "--json", ...(args[0] === "install" ? ["--binary", binary] : [])]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as PlanJson;
}

function shipped(source: string): string {
  return readFileSync(join(PACKAGING, source), "utf8");
}

/** Every file under packaging/ (for the check that each one is installed by some plan). */
function packagingFiles(dir = PACKAGING, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? packagingFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]);
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
  if (r.error) throw new Error(`${cmd} is not installed (.ci/run installs it): ${r.error.message}`);
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe("service install --dry-run writes exactly the shipped files", () => {
  const plans: Array<[string, string[], Record<string, string>]> = [
    ["linux system", ["install", "--system", "--platform", "linux"], {}],
    ["linux user", ["install", "--user", "--platform", "linux"], {}],
    ["darwin system", ["install", "--system", "--platform", "darwin"], {}],
    ["darwin user", ["install", "--user", "--platform", "darwin"], { __HOME__: "/home/alice" }],
  ];

  test.each(plans)("%s", (_name, args, replacements) => {
    const plan = dryRun(args);
    const writes = plan.steps.filter((s) => s.kind === "write");
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) {
      let expected = shipped(w.source!);
      for (const [from, to] of Object.entries(replacements)) expected = expected.replaceAll(from, to);
      expect({ path: w.path, content: w.content }).toEqual({ path: w.path, content: expected });
    }
    for (const s of plan.steps.filter((x) => x.stdin !== undefined)) expect(s.stdin).toBe(shipped("launchd/create-accounts.sh"));
  });

  test("every file in packaging/ (but the Homebrew formula) is installed by some plan", () => {
    const used = new Set<string>();
    for (const [, args] of plans) {
      for (const s of dryRun(args).steps) {
        if (s.source) used.add(s.source);
        if (s.stdin !== undefined) used.add("launchd/create-accounts.sh");
      }
    }
    expect(packagingFiles().filter((f) => !f.startsWith("homebrew/")).sort()).toEqual([...used].sort());
  });

  test("another binary path replaces every shipped path and changes nothing else", () => {
    const plan = dryRun(["install", "--system", "--platform", "linux"], "/opt/ar/bin/agent-receipts");
    const unit = plan.steps.find((s) => s.path === "/etc/systemd/system/agent-receipts.service")!;
    expect(unit.content).toBe(shipped("systemd/agent-receipts.service").replaceAll(SHIPPED_BINARY, "/opt/ar/bin/agent-receipts"));
    expect(unit.content).toContain("ExecStart=/opt/ar/bin/agent-receipts daemon --config /etc/agentreceipts/daemon.toml");
  });

  test("the system plan's order: accounts and directories before the files that need them; the config is never overwritten", () => {
    const plan = dryRun(["install", "--system", "--platform", "linux"]);
    const order = plan.steps.map((s) => s.path ?? s.argv!.join(" "));
    expect(order).toEqual([
      "/etc/sysusers.d/agent-receipts.conf", "/etc/tmpfiles.d/agent-receipts.conf",
      "systemd-sysusers /etc/sysusers.d/agent-receipts.conf", "systemd-tmpfiles --create /etc/tmpfiles.d/agent-receipts.conf",
      "/etc/agentreceipts/daemon.toml", "/etc/systemd/system/agent-receipts.service",
      "systemctl daemon-reload", "systemctl enable agent-receipts.service", "systemctl restart agent-receipts.service",
    ]);
    const config = plan.steps.find((s) => s.path === "/etc/agentreceipts/daemon.toml")!;
    expect([config.keep_existing, config.mode]).toEqual([true, "0600"]);
    // Every mode is an octal string, as people write them.
    for (const step of plan.steps) if (step.mode !== undefined) expect(step.mode).toMatch(/^0[0-7]{3}$/);
  });

  test("a dry run for a binary the real install would refuse (under /tmp) says so on stderr, in text and JSON", () => {
    const dir = mkdtempSync("/tmp/ar-dry-run-");
    const binary = join(dir, "agent-receipts");
    copyFileSync(BINARY, binary);
    const real = cli(["service", "install", "--system", "--binary", binary]);
    for (const json of [[], ["--json"]]) {
      const r = cli(["service", "install", "--system", "--platform", "linux", "--dry-run", ...json, "--binary", binary]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain("warning: the real install would refuse:");
      expect(r.stderr).toContain("PrivateTmp=/ProtectHome= hide from the service");
      expect(r.stdout).toContain(`ExecStart=${binary} daemon`);
    }
    // Without --dry-run the same binary is refused (when the install gets that far: root with systemd).
    if (real.stderr.includes("PrivateTmp")) expect(real.code).not.toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  test("the text dry run lists every step and prints every file in full", () => {
    const r = cli(["service", "install", "--system", "--platform", "linux", "--dry-run", "--binary", SHIPPED_BINARY]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("# agent-receipts service install --system (linux), dry run: nothing was changed.\n");
    expect(r.stdout).toContain(shipped("systemd/agent-receipts.service"));
    expect(r.stdout).toContain("# 9. run systemctl restart agent-receipts.service");
  });

  test("uninstall plans stop the service, remove only its definition, and keep the evidence", () => {
    const linux = dryRun(["uninstall", "--system", "--platform", "linux"]);
    expect(linux.steps.filter((s) => s.kind === "remove").map((s) => s.path)).toEqual([
      "/etc/systemd/system/agent-receipts.service", "/etc/tmpfiles.d/agent-receipts.conf", "/etc/sysusers.d/agent-receipts.conf",
    ]);
    expect(linux.notes.join("\n")).toContain("kept /var/lib/agentreceipts");
    const darwinUser = dryRun(["uninstall", "--user", "--platform", "darwin"]);
    expect(darwinUser.steps.map((s) => s.path ?? s.argv!.join(" "))).toEqual([
      `launchctl bootout gui/${process.getuid!()}/ai.agentreceipts.daemon`, "/home/alice/Library/LaunchAgents/ai.agentreceipts.daemon.plist",
    ]);
  });
});

const SYSTEMD = systemTool("systemd-analyze", "systemd (apt-get install systemd)");
const SYSUSERS = systemTool("systemd-sysusers", "systemd (apt-get install systemd)");
const PYTHON = systemTool("python3", "python3 (apt-get install python3)");

describe("the shipped files are valid for their tools", () => {
  test.skipIf(SYSTEMD.skip !== null)(`both systemd units pass systemd-analyze verify with no warning${SYSTEMD.skip ? ` (${SYSTEMD.skip})` : ""}`, () => {
    const dir = tempDir("ar-units-");
    for (const [source, user] of [["systemd/agent-receipts.service", false], ["systemd/agent-receipts.user.service", true]] as const) {
      const sub = join(dir, user ? "user" : "system");
      mkdirSync(sub);
      const unit = join(sub, "agent-receipts.service");
      // systemd-analyze checks that ExecStart exists: point it at the built binary.
      writeFileSync(unit, shipped(source).replaceAll(SHIPPED_BINARY, BINARY));
      const runtime = join(dir, `rt-${user}`);
      mkdirSync(runtime, { mode: 0o700 });
      const r = run("systemd-analyze", [...(user ? ["--user"] : []), "verify", unit], { XDG_RUNTIME_DIR: runtime });
      expect({ source, ...r }).toEqual({ source, code: 0, out: "" });
    }
  });

  test.skipIf(SYSTEMD.skip !== null)(`a unit with a typo fails the same check (the check can fail)${SYSTEMD.skip ? ` (${SYSTEMD.skip})` : ""}`, () => {
    const unit = join(tempDir("ar-units-bad-"), "agent-receipts.service");
    writeFileSync(unit, shipped("systemd/agent-receipts.service").replaceAll(SHIPPED_BINARY, BINARY).replace("ProtectSystem=strict", "ProtectSystm=strict"));
    expect(run("systemd-analyze", ["verify", unit]).out).toContain("Unknown key 'ProtectSystm'");
  });

  test.skipIf(SYSUSERS.skip !== null)(`sysusers.d creates the daemon user and both groups${SYSUSERS.skip ? ` (${SYSUSERS.skip})` : ""}`, () => {
    const r = run("systemd-sysusers", ["--dry-run", join(PACKAGING, "systemd/agent-receipts.sysusers.conf")]);
    expect(r.code).toBe(0);
    for (const g of ["agentreceipts-read", "agentreceipts-emit"]) expect(r.out).toMatch(new RegExp(`(Creating group '${g}'|Group ${g} already)`));
    expect(r.out).toMatch(/Creating user 'agentreceipts'|User agentreceipts already/);
  });

  test.skipIf(PYTHON.skip !== null)(`both plists parse as property lists with the label, arguments and restart policy${PYTHON.skip ? ` (${PYTHON.skip})` : ""}`, () => {
    for (const source of ["launchd/system/ai.agentreceipts.daemon.plist", "launchd/user/ai.agentreceipts.daemon.plist"]) {
      const py = "import plistlib, json, sys; print(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))";
      const r = run("python3", ["-c", py, join(PACKAGING, source)]);
      expect(r.code).toBe(0);
      const plist = JSON.parse(r.out) as Record<string, unknown>;
      expect(plist).toMatchObject({ Label: "ai.agentreceipts.daemon", RunAtLoad: true, KeepAlive: { SuccessfulExit: false }, Umask: 0o027 });
      expect((plist.ProgramArguments as string[]).slice(0, 2)).toEqual([SHIPPED_BINARY, "daemon"]);
      expect(plist.StandardErrorPath).toBeString();
      if (source.includes("system")) expect(plist).toMatchObject({ UserName: "agentreceipts", GroupName: "agentreceipts-read" });
    }
  });

  test("the macOS account script is valid sh", () => {
    expect(run("sh", ["-n", join(PACKAGING, "launchd/create-accounts.sh")]).code).toBe(0);
  });

  test("both system daemon.toml files are accepted by the daemon's own config check", () => {
    for (const [source, socket] of [["config/daemon.linux.toml", "/run/agentreceipts/events.sock"], ["config/daemon.darwin.toml", "/var/run/agentreceipts/events.sock"]]) {
      const r = cli(["daemon", "--print-config", "--config", join(PACKAGING, source!)]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(`socket = "${socket}"`);
      expect(r.stdout).toContain('allow_groups = ["agentreceipts-emit"]');
      expect(r.stdout).toContain('socket_group = "agentreceipts-emit"');
    }
  });
});

describe("service command errors", () => {
  test.each([
    [["service", "install", "--system", "--user", "--dry-run"], /--system and --user are exclusive/],
    [["service", "install", "--platform", "darwin"], /--platform only applies to --dry-run/],
    [["service", "install", "--platform", "windows", "--dry-run"], /--platform must be "linux" or "darwin"/],
    [["service", "restart"], /unknown command "restart"/],
  ])("%p", (args, message) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  test.skipIf(process.getuid?.() !== 0)("a system install as a non-root user is refused before anything is written", () => {
    const r = spawnSync(BINARY, ["service", "install", "--system", "--binary", BINARY], { uid: 65534, gid: 65534, encoding: "utf8", env: { PATH: "/usr/bin:/bin", HOME: "/" } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("a system install must run as root");
  });

  test.skipIf(spawnSync("test", ["-d", "/run/systemd/system"]).status === 0)("without a running systemd, install says so and writes nothing", () => {
    const home = tempDir("ar-home-");
    const r = cli(["service", "install", "--user", "--binary", BINARY], { HOME: home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("systemd is not running on this machine");
    expect(readdirSync(home)).toEqual([]);
  });
});
