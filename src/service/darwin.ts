// launchd: the system LaunchDaemon with its accounts, directories and config,
// or the per-user LaunchAgent.
import { join } from "node:path";
import type { Plan, Scope } from "./plan.ts";
import { DAEMON_USER, EMIT_GROUP, LAUNCHD_LABEL, READ_GROUP, SHIPPED, writeShipped } from "./shipped.ts";

export const DARWIN_SYSTEM_FILES = {
  plist: `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`,
  config: "/usr/local/etc/agentreceipts/daemon.toml",
} as const;

export function darwinAgentPlistPath(home: string): string {
  return join(home, "Library", "LaunchAgents", `${LAUNCHD_LABEL}.plist`);
}

export function launchdTarget(scope: Scope, uid: number): string {
  return scope === "system" ? `system/${LAUNCHD_LABEL}` : `gui/${uid}/${LAUNCHD_LABEL}`;
}

const ROOT = { user: "root", group: "wheel" };

export function darwinInstallPlan(scope: Scope, binary: string, home: string, uid: number): Plan {
  if (scope === "user") {
    const plist = darwinAgentPlistPath(home);
    return {
      action: "install", scope, platform: "darwin",
      steps: [
        writeShipped(SHIPPED.launchAgent, plist, 0o644, binary, { home }),
        { kind: "run", argv: ["launchctl", "bootout", launchdTarget(scope, uid)], why: "unload an older copy", mayFail: true },
        { kind: "run", argv: ["launchctl", "bootstrap", `gui/${uid}`, plist], why: "load and start it (and at every login)" },
      ],
      notes: [`logs: ${join(home, "Library", "Logs", "agent-receipts.log")}`],
    };
  }
  const f = DARWIN_SYSTEM_FILES;
  const daemon = (group: string) => ({ user: DAEMON_USER, group });
  return {
    action: "install", scope, platform: "darwin",
    steps: [
      { kind: "run", argv: ["/bin/sh", "-s"], stdin: SHIPPED.createAccounts.text, why: `create the ${DAEMON_USER} user and the ${READ_GROUP}/${EMIT_GROUP} groups (packaging/${SHIPPED.createAccounts.source})` },
      { kind: "mkdir", path: "/usr/local/etc/agentreceipts", mode: 0o700, owner: daemon(READ_GROUP) },
      { kind: "mkdir", path: "/usr/local/var/agentreceipts", mode: 0o750, owner: daemon(READ_GROUP) },
      { kind: "mkdir", path: "/usr/local/var/log/agentreceipts", mode: 0o750, owner: daemon(READ_GROUP) },
      { kind: "mkdir", path: "/var/run/agentreceipts", mode: 0o750, owner: daemon(EMIT_GROUP) },
      writeShipped(SHIPPED.darwinConfig, f.config, 0o600, binary, { owner: daemon(READ_GROUP), keepExisting: true }),
      writeShipped(SHIPPED.launchDaemon, f.plist, 0o644, binary, { owner: ROOT }),
      { kind: "run", argv: ["launchctl", "bootout", launchdTarget(scope, uid)], why: "unload an older copy", mayFail: true },
      { kind: "run", argv: ["launchctl", "bootstrap", "system", f.plist], why: "load and start it (and at every boot)" },
    ],
    notes: [
      `let an agent user emit: sudo dseditgroup -o edit -a <user> -t user ${EMIT_GROUP}, and set AGENTRECEIPTS_SOCKET=/var/run/agentreceipts/events.sock in its environment`,
      "logs: /usr/local/var/log/agentreceipts/daemon.log",
    ],
  };
}

export function darwinUninstallPlan(scope: Scope, home: string, uid: number): Plan {
  const plist = scope === "system" ? DARWIN_SYSTEM_FILES.plist : darwinAgentPlistPath(home);
  return {
    action: "uninstall", scope, platform: "darwin",
    steps: [
      { kind: "run", argv: ["launchctl", "bootout", launchdTarget(scope, uid)], why: "stop and unload it", mayFail: true },
      { kind: "remove", path: plist },
    ],
    notes: [
      scope === "system"
        ? "kept /usr/local/var/agentreceipts (receipts), /usr/local/etc/agentreceipts (signing key, daemon.toml) and the accounts"
        : "kept ~/.local/share/agent-receipts (receipts, signing key)",
    ],
  };
}
