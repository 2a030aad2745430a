// systemd: the system unit with its users, directories and config, or the
// per-user unit.
import { join } from "node:path";
import type { Plan, Scope, Step } from "./plan.ts";
import { DAEMON_USER, SHIPPED, UNIT_NAME, writeShipped } from "./shipped.ts";

export const LINUX_SYSTEM_FILES = {
  unit: `/etc/systemd/system/${UNIT_NAME}`,
  sysusers: "/etc/sysusers.d/agent-receipts.conf",
  tmpfiles: "/etc/tmpfiles.d/agent-receipts.conf",
  config: "/etc/agentreceipts/daemon.toml",
} as const;

export function linuxUserUnitPath(home: string): string {
  return join(home, ".config", "systemd", "user", UNIT_NAME);
}

const ROOT = { user: "root", group: "root" };

export function linuxInstallPlan(scope: Scope, binary: string, home: string): Plan {
  if (scope === "user") {
    return {
      action: "install", scope, platform: "linux",
      steps: [
        writeShipped(SHIPPED.userUnit, linuxUserUnitPath(home), 0o644, binary),
        { kind: "run", argv: ["systemctl", "--user", "daemon-reload"], why: "load the unit" },
        { kind: "run", argv: ["systemctl", "--user", "enable", UNIT_NAME], why: "start it at login" },
        { kind: "run", argv: ["systemctl", "--user", "restart", UNIT_NAME], why: "start it now (or restart it on the new binary)" },
      ],
      notes: [
        "emitters in your sessions find the socket at $XDG_RUNTIME_DIR/agentreceipts/events.sock without configuration",
        "to keep the daemon running while you are logged out: loginctl enable-linger $USER",
      ],
    };
  }
  const f = LINUX_SYSTEM_FILES;
  const steps: Step[] = [
    writeShipped(SHIPPED.sysusers, f.sysusers, 0o644, binary, { owner: ROOT }),
    writeShipped(SHIPPED.tmpfiles, f.tmpfiles, 0o644, binary, { owner: ROOT }),
    { kind: "run", argv: ["systemd-sysusers", f.sysusers], why: "create the agentreceipts user and the agentreceipts-read/-emit groups" },
    { kind: "run", argv: ["systemd-tmpfiles", "--create", f.tmpfiles], why: "create /etc/agentreceipts, /var/lib/agentreceipts and /run/agentreceipts" },
    writeShipped(SHIPPED.linuxConfig, f.config, 0o600, binary, { owner: { user: DAEMON_USER, group: DAEMON_USER }, keepExisting: true }),
    writeShipped(SHIPPED.systemUnit, f.unit, 0o644, binary, { owner: ROOT }),
    { kind: "run", argv: ["systemctl", "daemon-reload"], why: "load the unit" },
    { kind: "run", argv: ["systemctl", "enable", UNIT_NAME], why: "start it at boot" },
    { kind: "run", argv: ["systemctl", "restart", UNIT_NAME], why: "start it now (or restart it on the new binary)" },
  ];
  return {
    action: "install", scope, platform: "linux", steps,
    notes: [
      "let an agent user emit: usermod -aG agentreceipts-emit <user> (it must log in again)",
      "let an auditor verify: usermod -aG agentreceipts-read <user>, then agent-receipts verify --db /var/lib/agentreceipts/receipts.db --public-key /var/lib/agentreceipts/signing.key.pub",
      "agents whose session sets XDG_RUNTIME_DIR need AGENTRECEIPTS_SOCKET=/run/agentreceipts/events.sock",
    ],
  };
}

export function linuxUninstallPlan(scope: Scope, home: string): Plan {
  if (scope === "user") {
    return {
      action: "uninstall", scope, platform: "linux",
      steps: [
        { kind: "run", argv: ["systemctl", "--user", "disable", "--now", UNIT_NAME], why: "stop it and keep it from starting", mayFail: true },
        { kind: "remove", path: linuxUserUnitPath(home) },
        { kind: "run", argv: ["systemctl", "--user", "daemon-reload"], why: "forget the unit" },
      ],
      notes: ["kept ~/.local/share/agent-receipts (receipts, signing key): remove it yourself only if you no longer need the evidence"],
    };
  }
  const f = LINUX_SYSTEM_FILES;
  return {
    action: "uninstall", scope, platform: "linux",
    steps: [
      { kind: "run", argv: ["systemctl", "disable", "--now", UNIT_NAME], why: "stop it and keep it from starting", mayFail: true },
      { kind: "remove", path: f.unit },
      { kind: "remove", path: f.tmpfiles },
      { kind: "remove", path: f.sysusers },
      { kind: "run", argv: ["systemctl", "daemon-reload"], why: "forget the unit" },
    ],
    notes: [
      "kept /var/lib/agentreceipts (receipts, public key) and /etc/agentreceipts (signing key, daemon.toml): remove them yourself only if you no longer need the evidence",
      "kept the agentreceipts user and the agentreceipts-read/-emit groups (userdel/groupdel remove them)",
    ],
  };
}
