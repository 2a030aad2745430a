// Is a daemon running, does this shell look for it where it listens, and may
// this user connect to it?
import { resolve } from "node:path";
import { leftover } from "../status/discover.ts";
import { explainConnection } from "../status/explain.ts";
import { probeConnect } from "../status/probe.ts";
import { fail, ok, warn, type CheckResult } from "./check.ts";
import type { DoctorContext } from "./context.ts";

const START_FIX = 'start it: "agent-receipts daemon", or as a service: "agent-receipts service install" (then "agent-receipts service status")';

export function daemonCheck(ctx: DoctorContext): CheckResult {
  const d = ctx.found.daemon;
  if (d === null) {
    const where = ctx.found.looked.map((s) => s.socket).join(", ");
    const left = ctx.found.looked.map(leftover).find((n) => n !== null);
    return fail("daemon", `no daemon is running (looked for a socket at ${where})${left === undefined ? "" : `; ${left}`}`, START_FIX);
  }
  if (ctx.daemon !== null) {
    return ok("daemon", `running: pid ${ctx.daemon.pid}, version ${ctx.daemon.version}, since ${ctx.daemon.started_at}, socket ${d.socket}`);
  }
  if (d.file.kind === "unreadable") {
    return warn("daemon", `a daemon listens on ${d.socket}, but this user may not read its status file ${d.file.path} (${d.file.code}), so its paths are guessed`,
      "join the socket's group (see socket_access), or pass --db and --public-key");
  }
  return warn("daemon", `a daemon listens on ${d.socket} but has no usable status file (${d.file.path}: ${d.file.kind === "invalid" ? d.file.message : "absent"}): an older version?`,
    "restart the daemon with this version so that status and doctor can see its paths");
}

function same(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}

export function socketPathCheck(ctx: DoctorContext): CheckResult {
  const shell = ctx.shell;
  const from = shell.from === "default" ? "the default" : `from ${shell.from}`;
  const d = ctx.found.daemon;
  if (d === null) return warn("socket_path", `this shell's emitters use ${shell.path} (${from}); no running daemon to compare with`, null);
  if (same(d.socket, shell.path)) return ok("socket_path", `this shell's emitters and the daemon use ${shell.path} (${from})`);
  const fix = shell.from === "--socket"
    ? `pass --socket ${d.socket}`
    : `export AGENTRECEIPTS_SOCKET=${d.socket} in the agents' environment (shell profile, Claude Code settings.json "env", the agent's unit)`;
  return fail("socket_path", `this shell's emitters use ${shell.path} (${from}), but the daemon listens on ${d.socket}`, fix);
}

/** Connects (no frame) to the daemon's socket, or to the shell's when no daemon was found. */
export async function socketAccessCheck(ctx: DoctorContext): Promise<CheckResult> {
  const target = ctx.found.daemon === null ? ctx.shell : { path: ctx.found.daemon.socket, from: "the running daemon", explicit: false };
  const result = await probeConnect(target.path);
  const e = explainConnection(target, result, ctx.found.daemon);
  if (e.ok) return ok("socket_access", `this user may connect to ${target.path}, and the daemon accepts it`);
  return fail("socket_access", e.problem, e.fix ?? START_FIX);
}
