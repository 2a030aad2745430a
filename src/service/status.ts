// `service status`: what the service manager says, and whether the socket
// answers, from the same paths the daemon uses.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolveConfig } from "../daemon/config.ts";
import { probeSocket } from "../daemon/socket-path.ts";
import { look } from "../status/discover.ts";
import type { Platform } from "../paths/resolve.ts";
import { darwinAgentPlistPath, DARWIN_SYSTEM_FILES, launchdTarget } from "./darwin.ts";
import { linuxUserUnitPath, LINUX_SYSTEM_FILES } from "./linux.ts";
import type { Scope } from "./plan.ts";
import { SHIPPED, UNIT_NAME } from "./shipped.ts";

export interface ServiceStatus {
  platform: Platform;
  scope: Scope;
  manager: "systemd" | "launchd";
  /** The unit file or plist. */
  definition: string;
  installed: boolean;
  /** systemd's UnitFileState (enabled, disabled, ...), or "loaded"/"not loaded" for launchd. */
  enabled: string;
  state: string;
  pid: number | null;
  socket: string;
  socket_state: "accepting" | "not listening" | "cannot connect";
  db: string;
  /** The config the paths came from, or why the defaults are shown. */
  paths_from: string;
  /** A daemon runs on the socket, whether or not the service manager started it. */
  running: boolean;
  /** The daemon on the socket is the service manager's (false also when none runs). */
  managed: boolean;
  /** The pid of the daemon on the socket, from its status file (null when it cannot be read). */
  daemon_pid: number | null;
}

function systemdState(scope: Scope): { enabled: string; state: string; pid: number | null } {
  const r = spawnSync("systemctl", [...(scope === "user" ? ["--user"] : []), "show", UNIT_NAME, "-p", "UnitFileState", "-p", "ActiveState", "-p", "SubState", "-p", "MainPID"], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    return { enabled: "unknown", state: `systemctl failed: ${(r.error?.message ?? r.stderr).trim().split("\n")[0]}`, pid: null };
  }
  const props = Object.fromEntries(r.stdout.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  const pid = Number(props.MainPID ?? 0);
  return { enabled: props.UnitFileState || "not installed", state: `${props.ActiveState ?? "unknown"} (${props.SubState ?? "?"})`, pid: pid > 0 ? pid : null };
}

function launchdState(scope: Scope, uid: number): { enabled: string; state: string; pid: number | null } {
  const r = spawnSync("launchctl", ["print", launchdTarget(scope, uid)], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) return { enabled: "not loaded", state: "not running", pid: null };
  const state = /^\s*state = (.+)$/m.exec(r.stdout)?.[1] ?? "unknown";
  const pid = /^\s*pid = (\d+)$/m.exec(r.stdout)?.[1];
  return { enabled: "loaded", state, pid: pid === undefined ? null : Number(pid) };
}

/** Socket and database paths: the installed config when readable, else the shipped defaults. */
function paths(platform: Platform, scope: Scope): { socket: string; db: string; from: string } {
  if (scope === "user") {
    const c = resolveConfig({}, undefined);
    return { socket: c.socket, db: c.db, from: c.config_file ?? "defaults (no daemon.toml)" };
  }
  const file = platform === "linux" ? LINUX_SYSTEM_FILES.config : DARWIN_SYSTEM_FILES.config;
  try {
    const c = resolveConfig({}, file, {});
    return { socket: c.socket, db: c.db, from: file };
  } catch {
    const shipped = Bun.TOML.parse(platform === "linux" ? SHIPPED.linuxConfig.text : SHIPPED.darwinConfig.text) as { socket: string; db: string };
    return { socket: shipped.socket, db: shipped.db, from: `shipped defaults (${file} is absent or not readable here)` };
  }
}

export async function serviceStatus(platform: Platform, scope: Scope, uid: number, home: string): Promise<ServiceStatus> {
  const definition = platform === "linux"
    ? scope === "system" ? LINUX_SYSTEM_FILES.unit : linuxUserUnitPath(home)
    : scope === "system" ? DARWIN_SYSTEM_FILES.plist : darwinAgentPlistPath(home);
  const manager = platform === "linux" ? "systemd" : "launchd";
  const s = platform === "linux" ? systemdState(scope) : launchdState(scope, uid);
  const p = paths(platform, scope);
  const probe = await probeSocket(p.socket);
  const socketState = probe === "live" ? "accepting" : probe === "refused" ? "not listening" : "cannot connect";
  // A daemon started by hand on the same socket runs too: its status file names its pid.
  const seen = look(p.socket);
  const daemonPid = seen.file.kind === "ok" && seen.alive === true ? seen.file.status.pid : null;
  const live = probe === "live" || seen.listening === true;
  const managed = live && s.pid !== null && (daemonPid === null || daemonPid === s.pid);
  return {
    platform, scope, manager, definition, installed: existsSync(definition), enabled: s.enabled, state: s.state, pid: s.pid,
    socket: p.socket, socket_state: socketState, db: p.db, paths_from: p.from,
    running: live, managed, daemon_pid: daemonPid,
  };
}

export function renderStatus(s: ServiceStatus): string {
  return [
    `agent-receipts service (${s.scope}, ${s.manager})`,
    `  definition  ${s.definition} (${s.installed ? "installed" : "not installed"}, ${s.enabled})`,
    `  state       ${s.state}${s.pid !== null ? `, pid ${s.pid}` : ""}`,
    ...(s.running && !s.managed
      ? [`  daemon      running${s.daemon_pid !== null ? ` (pid ${s.daemon_pid})` : ""}, but not managed by the service: it was started by hand; stop it before "service install"`]
      : []),
    `  socket      ${s.socket} (${s.socket_state})`,
    `  database    ${s.db}`,
    `  paths from  ${s.paths_from}`,
    "",
  ].join("\n");
}
