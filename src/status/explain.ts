// Why this shell can or cannot reach the daemon, in one sentence, and the
// fix: the variable to set, the group to join or the config key to change.
// Shared by `status` and `doctor`.
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { AccessPolicy } from "../daemon/access/policy.ts";
import { groupNameOfGid, loginOfUid } from "../os/accounts.ts";
import type { Sighting } from "./discover.ts";
import type { ConnectResult } from "./probe.ts";
import type { Sourced } from "./targets.ts";

export interface Explained {
  ok: boolean;
  problem: string;
  fix: string | null;
}

export interface Me {
  uid: number;
  gid: number;
  groups: number[];
}

export function me(): Me {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, groups: process.getgroups?.() ?? [] };
}

export function userName(uid: number): string {
  const login = loginOfUid(uid);
  return login === undefined ? `uid ${uid}` : `${login} (uid ${uid})`;
}

function groupName(gid: number): string {
  return groupNameOfGid(gid) ?? String(gid);
}

/** The group that decides access to the socket: the socket's own when it can be seen, else its directory's. */
function socketGroup(socket: string): string | null {
  for (const p of [socket, dirname(socket)]) {
    try {
      return groupName(statSync(p).gid);
    } catch {
      // not visible to this user: try the directory
    }
  }
  return null;
}

function exportHint(socket: string, shell: Sourced): string {
  if (shell.from === "--socket") return `pass --socket ${socket}`;
  return `export AGENTRECEIPTS_SOCKET=${socket} in the agent's environment (shell profile, Claude Code settings.json "env", the agent's unit)`;
}

export function explainConnection(shell: Sourced, result: ConnectResult, daemon: Sighting | null, who: Me = me()): Explained {
  const at = `${shell.path} (${shell.from === "default" ? "the default" : `from ${shell.from}`})`;
  switch (result.outcome) {
    case "accepted":
      return { ok: true, problem: `this shell connects to ${at}`, fix: null };
    case "refused": {
      const status = daemon?.file.kind === "ok" ? daemon.file.status : null;
      let why = `the daemon refuses ${userName(who.uid)}`;
      if (status !== null) {
        const d = new AccessPolicy({ uids: status.allow_uids, gids: status.allow_groups }, status.uid).decide(who, () => who.groups);
        if (!d.allowed) why += `: ${d.reason}`;
      }
      const config = status?.config ?? "the daemon's config file (daemon.toml)";
      return {
        ok: false,
        problem: `${why} (it closes the connection at ${shell.path} at once)`,
        fix: `add ${who.uid} to allow_uids, or the user to a group listed in allow_groups, in ${config}; then restart the daemon`,
      };
    }
    case "no_permission": {
      const group = socketGroup(shell.path);
      const join = group === null ? "the socket's group (socket_group)" : `group ${group}`;
      return {
        ok: false,
        problem: `${userName(who.uid)} may not open ${at} (${result.code ?? "EACCES"}): only ${join} may`,
        fix: `${group === null ? "join the socket's group" : `sudo usermod -aG ${group} ${loginOfUid(who.uid) ?? who.uid}`}, then log in again (the new group applies to new sessions)`,
      };
    }
    case "no_socket":
    case "not_listening": {
      const here = result.outcome === "no_socket" ? `there is no socket at ${at}` : `no daemon listens at ${at}: the socket file is left over`;
      if (daemon !== null && daemon.socket !== shell.path) {
        return { ok: false, problem: `${here}, but a daemon listens on ${daemon.socket}`, fix: exportHint(daemon.socket, shell) };
      }
      return { ok: false, problem: `${here} and no running daemon was found`, fix: 'start the daemon: "agent-receipts daemon", or install it as a service: "agent-receipts service install"' };
    }
    case "busy":
      return { ok: false, problem: result.message, fix: "the daemon is stalled or overloaded: see its log (journalctl -u agent-receipts)" };
    case "error":
      return { ok: false, problem: result.message, fix: null };
  }
}
