// What the proxy and `agent-receipts approve|deny` share: where the approval
// sockets live (a directory only the user can enter: a local Unix socket per
// proxy, never a TCP port), how a call id names its proxy, and the one-line
// JSON requests and answers on those sockets.
import { lstatSync, mkdirSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { UserFacingError } from "../errors.ts";
import { defaultDataDir, envValue, type Env } from "../paths/resolve.ts";

export const APPROVAL_DIR_ENV = "AGENTRECEIPTS_APPROVAL_DIR";
/** sun_path holds 108 bytes on Linux, 104 on macOS, including the NUL. */
const MAX_SOCKET_PATH = 103;

/** `$AGENTRECEIPTS_APPROVAL_DIR`, else `$XDG_RUNTIME_DIR/agentreceipts-approvals`, else `<data>/agent-receipts/approvals`. */
export function approvalDir(env: Env = process.env): string {
  const configured = envValue(env, APPROVAL_DIR_ENV);
  if (configured !== undefined) return configured;
  const runtime = envValue(env, "XDG_RUNTIME_DIR");
  if (runtime !== undefined && isAbsolute(runtime)) return join(runtime, "agentreceipts-approvals");
  return join(defaultDataDir(env), "approvals");
}

/** A proxy's tag names its socket; call ids are `<tag>-<n>`. */
export function socketPathOf(dir: string, tag: string): string {
  return join(dir, `${tag}.sock`);
}

export function tagOfCallId(callId: string): string | undefined {
  return /^([a-z0-9]{4,32})-\d+$/.exec(callId)?.[1];
}

/**
 * Creates the directory (mode 0700) or checks the existing one: a real
 * directory, owned by this user, that no other user can enter, so that only
 * this user (and root) can approve this user's calls.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const fix = `use a directory of your own with mode 0700 (set ${APPROVAL_DIR_ENV})`;
  if (!st.isDirectory()) throw new UserFacingError(`the approval directory ${dir} is not a directory (a symlink?); ${fix}`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new UserFacingError(`the approval directory ${dir} belongs to uid ${st.uid}, not to you (uid ${uid}); ${fix}`);
  if ((st.mode & 0o077) !== 0) {
    throw new UserFacingError(`the approval directory ${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}); run "chmod 700 ${dir}" or ${fix}`);
  }
}

export function checkSocketPath(path: string): void {
  if (Buffer.byteLength(path, "utf8") > MAX_SOCKET_PATH) {
    throw new UserFacingError(`the approval socket path ${path} is longer than ${MAX_SOCKET_PATH} bytes, too long for a Unix socket; set ${APPROVAL_DIR_ENV} to a shorter directory`);
  }
}

/** A call waiting for approval, as `approve --list` shows it. */
export interface WaitingCall {
  call_id: string;
  tool: string;
  server?: string;
  rule: string;
  session_id: string;
  waited_ms: number;
  timeout_ms: number;
}

export type ApprovalRequest =
  | { op: "list" }
  | { op: "decide"; call_id: string; approve: boolean; reason?: string };

export type ApprovalAnswer =
  | { ok: true; calls?: WaitingCall[]; call?: WaitingCall }
  | { ok: false; error: string };

/** Bound on one request line (a call id and a reason). */
export const MAX_REQUEST_BYTES = 16 * 1024;
