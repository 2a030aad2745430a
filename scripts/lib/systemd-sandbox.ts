// A real systemd (PID 1 of a private PID and mount namespace) on a machine
// that was not booted with it, such as a CI container: lets tests and the
// hardening check start the shipped unit under the real service manager.
// Needs root and unshare(1). Files are shared with the host (the checkout may
// live anywhere, /tmp included), except /run, which is the namespace's own.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

/** systemd-tmpfiles at boot removes what is in /tmp and /var/tmp: on a shared filesystem, the host's. */
const TMPFILES_UNITS = ["systemd-tmpfiles-setup.service", "systemd-tmpfiles-clean.service", "systemd-tmpfiles-clean.timer"];
const SYSTEMD = ["/lib/systemd/systemd", "/usr/lib/systemd/systemd"].find(existsSync);

export class SystemdSandbox {
  private constructor(private readonly outer: ChildProcess, readonly pid: number) {}

  /** Why a sandbox cannot run here, or null when it can. */
  static unavailable(): string | null {
    if (process.getuid?.() !== 0) return "needs root";
    if (SYSTEMD === undefined) return "systemd is not installed (apt-get install systemd)";
    if (spawnSync("unshare", ["--version"]).status !== 0) return "unshare(1) is missing";
    const probe = spawnSync("unshare", ["--pid", "--fork", "--mount", "--mount-proc", "true"], { encoding: "utf8" });
    if (probe.status !== 0) return `this container may not create PID and mount namespaces (${probe.stderr.trim()})`;
    return null;
  }

  /** Boots systemd to basic.target (no host services) and waits until it is up. */
  static async boot(timeoutMs = 30_000): Promise<SystemdSandbox> {
    const why = SystemdSandbox.unavailable();
    if (why !== null) throw new Error(`cannot boot a systemd sandbox: ${why}`);
    // A private /run; and the boot-time tmpfiles passes masked, since they would empty the host's /tmp.
    const masks = TMPFILES_UNITS.map((u) => `ln -s /dev/null /run/systemd/system/${u}`);
    const init = [
      "mount -t tmpfs -o mode=0755 tmpfs /run", "mkdir -p /run/systemd/system", ...masks,
      `exec env container=agent-receipts-test ${SYSTEMD!} --system --unit=basic.target --log-target=null --show-status=no`,
    ].join(" && ");
    const outer = spawn("unshare", ["--pid", "--fork", "--mount", "--mount-proc", "--uts", "--propagation", "private", "sh", "-c", init], { stdio: "ignore" });
    const deadline = Date.now() + timeoutMs;
    let pid = 0;
    while (pid === 0) {
      if (Date.now() > deadline || outer.exitCode !== null) throw new Error("systemd did not start in the namespace");
      await Bun.sleep(50);
      const child = readFileSync(`/proc/${outer.pid}/task/${outer.pid}/children`, "utf8").trim().split(/\s+/)[0];
      pid = child ? Number(child) : 0;
    }
    const sandbox = new SystemdSandbox(outer, pid);
    for (;;) {
      const state = sandbox.exec(["systemctl", "is-system-running"]).stdout.trim();
      if (state === "running" || state === "degraded") return sandbox;
      if (Date.now() > deadline) {
        await sandbox.shutdown();
        throw new Error(`systemd in the namespace did not come up (state: ${state || "no answer"})`);
      }
      await Bun.sleep(100);
    }
  }

  /** Runs a command inside the namespace (its /run, its PID 1). */
  exec(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
    return spawnSync("nsenter", ["-t", String(this.pid), "-p", "-m", "-u", "--", ...argv], {
      encoding: "utf8", input: opts.input, timeout: opts.timeoutMs ?? 60_000,
    });
  }

  /** Kills the namespace's PID 1, and with it everything inside. */
  async shutdown(): Promise<void> {
    try {
      process.kill(this.pid, "SIGKILL");
    } catch {
      // already gone
    }
    if (this.outer.exitCode === null) await new Promise((resolve) => this.outer.once("exit", resolve));
  }
}

/** What a system install leaves on the (shared) filesystem, for tests and checks that made one to remove it. */
export const SYSTEM_INSTALL_LEFTOVERS = {
  paths: ["/etc/systemd/system/agent-receipts.service", "/etc/systemd/system/multi-user.target.wants/agent-receipts.service", "/etc/sysusers.d/agent-receipts.conf", "/etc/tmpfiles.d/agent-receipts.conf", "/etc/agentreceipts", "/var/lib/agentreceipts"],
  users: ["agentreceipts"],
  groups: ["agentreceipts-read", "agentreceipts-emit", "agentreceipts"],
} as const;

/** Whether this machine already has a system install (which a test must never touch). */
export function systemInstallPresent(): boolean {
  return SYSTEM_INSTALL_LEFTOVERS.paths.some(existsSync) || spawnSync("getent", ["passwd", "agentreceipts"]).status === 0;
}

/** Removes everything a system install made; only for installs a test or check made itself. */
export function removeSystemInstall(): void {
  for (const p of SYSTEM_INSTALL_LEFTOVERS.paths) spawnSync("rm", ["-rf", "--", p]);
  for (const u of SYSTEM_INSTALL_LEFTOVERS.users) spawnSync("userdel", [u]);
  for (const g of SYSTEM_INSTALL_LEFTOVERS.groups) spawnSync("groupdel", [g]);
}
