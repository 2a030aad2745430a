// Socket path policy and preparation (docs/protocol.md §2, §9): never TCP, only under
// the safe roots unless explicitly allowed, stale sockets removed, a live one
// (another daemon) or a non-socket file refused.
import { connect } from "node:net";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, realpathSync, unlinkSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { envValue, defaultDataDir, SYSTEM_SOCKET_DIR, type Env, type Platform } from "../paths/resolve.ts";
import { canCreateIn, nearestExisting, octal, ownerName, statIfExists } from "../os/dirs.ts";
import { looksLikeTcp } from "../paths/socket-address.ts";
import { temporarySocketPath } from "./listener.ts";

export class SocketPathError extends Error {}

/**
 * Where a socket may live without --unsafe-socket-path. On Linux the data dir
 * is one too: it holds the default socket of a user without XDG_RUNTIME_DIR.
 */
export function safeRoots(env: Env, platform: Platform): string[] {
  if (platform === "darwin") return ["/var/run", join(defaultDataDir(env), "")].map((p) => p.replace(/\/$/, ""));
  const roots = ["/run", "/var/run"];
  const runtime = envValue(env, "XDG_RUNTIME_DIR");
  if (runtime !== undefined && isAbsolute(runtime)) roots.push(runtime);
  roots.push(defaultDataDir(env));
  return roots;
}

/** sun_path holds 108 bytes on Linux and 104 on macOS, including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = { linux: 107, darwin: 103 } as const;

/** realpath of the nearest existing ancestor, with the rest appended. */
function resolveExisting(path: string): string {
  let existing = path;
  const rest: string[] = [];
  while (!existsSync(existing)) {
    const parent = dirname(existing);
    if (parent === existing) break;
    rest.unshift(existing.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
    existing = parent;
  }
  return join(realpathSync(existing), ...rest);
}

function within(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

export interface SocketPathCheck {
  path: string;
  /** True when the path is outside the safe roots and --unsafe-socket-path allowed it. */
  unsafe: boolean;
}

export function checkSocketPath(raw: string, allowUnsafe: boolean, env: Env, platform: Platform): SocketPathCheck {
  if (looksLikeTcp(raw)) {
    throw new SocketPathError(`socket path "${raw}" looks like a TCP address; agent-receipts only listens on a Unix socket. Give a filesystem path such as /run/agentreceipts/events.sock.`);
  }
  const path = resolve(raw);
  // The socket is bound at a temporary name one byte longer, then moved into place (listener.ts).
  if (Buffer.byteLength(temporarySocketPath(path)) > MAX_SOCKET_PATH_BYTES[platform]) {
    throw new SocketPathError(
      `socket path ${path} is ${Buffer.byteLength(path)} bytes; here it may have at most ${MAX_SOCKET_PATH_BYTES[platform] - 1}. ` +
        "Choose a shorter path (--socket or AGENTRECEIPTS_SOCKET, for the emitters too).",
    );
  }
  const real = join(resolveExisting(dirname(path)), path.slice(dirname(path).length + 1));
  // /var/run is usually a link to /run: name each root once.
  const roots = [...new Set(safeRoots(env, platform).map((r) => (existsSync(r) ? realpathSync(r) : r)))];
  if (roots.some((root) => within(real, root))) return { path, unsafe: false };
  if (!allowUnsafe) {
    throw new SocketPathError(
      `socket path ${path} is outside the safe roots (${roots.join(", ")}), where other users could tamper with it. ` +
        "Choose a path under one of them, or pass --unsafe-socket-path (unsafe_socket_path = true) to accept the risk.",
    );
  }
  return { path, unsafe: true };
}

/**
 * Before anything is created: the socket directory must be the daemon's own
 * (it is tightened later) or root's and closed to others, since whoever may
 * write in it could replace the socket; a missing one must be creatable.
 */
export function checkSocketDir(path: string, uid: number): void {
  const dir = dirname(path);
  const st = statIfExists(dir);
  if (st === undefined) {
    const parent = nearestExisting(dir);
    if (!canCreateIn(parent)) {
      throw new SocketPathError(
        `cannot create the socket directory ${dir}: ${parent} is not writable by the daemon's uid ${uid}. ` +
          "Choose a socket path in a directory this user owns (--socket or AGENTRECEIPTS_SOCKET, for the emitters too), or run the daemon as a user who may write there.",
      );
    }
    return;
  }
  if (!st.isDirectory()) throw new SocketPathError(`${dir} is not a directory; choose another --socket path.`);
  if (st.uid === uid) return;
  const mode = octal(st.mode);
  if (st.uid !== 0) {
    throw new SocketPathError(
      `socket directory ${dir} belongs to ${ownerName(st.uid)} (mode ${mode}), not to the daemon's uid ${uid}: that user could replace the socket. ` +
        `Remove the directory (or chown it to uid ${uid}), or choose another socket path.`,
    );
  }
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) {
    throw new SocketPathError(`socket directory ${dir} is writable by group or others (mode ${mode}): they could replace the socket. Fix: chmod go-w ${dir}, or choose another socket path.`);
  }
  if (!canCreateIn(dir)) {
    const leftover = dir === SYSTEM_SOCKET_DIR
      ? `. It is the system daemon's directory, perhaps left by a daemon that ran as root: if no system daemon runs here, remove it (sudo rm -r ${dir}) ` +
        "and start again to use the per-user socket in the data directory; otherwise set XDG_RUNTIME_DIR or AGENTRECEIPTS_SOCKET (for the emitters too) for a daemon of your own."
      : ". Choose a socket path in a directory this user owns (--socket or AGENTRECEIPTS_SOCKET, for the emitters too).";
    throw new SocketPathError(`socket directory ${dir} belongs to root (mode ${mode}) and the daemon's uid ${uid} cannot create its socket there${leftover}`);
  }
}

/** Connects to `path`: "live" when something answers, "refused" for a stale socket. */
export function probeSocket(path: string, timeoutMs = 500): Promise<"live" | "refused" | "error"> {
  return new Promise((resolvePromise) => {
    const sock = connect(path);
    const done = (result: "live" | "refused" | "error") => {
      clearTimeout(timer);
      sock.destroy();
      resolvePromise(result);
    };
    const timer = setTimeout(() => done("live"), timeoutMs); // a hung listener is still a listener
    sock.once("connect", () => done("live"));
    sock.once("error", (err: NodeJS.ErrnoException) => done(err.code === "ECONNREFUSED" || err.code === "ENOENT" ? "refused" : "error"));
  });
}

/** A socket directory the daemon may adjust: its own, and not a shared root such as /run. */
function ownSocketDir(dir: string, protectedDirs: string[]): boolean {
  return !protectedDirs.includes(realpathSync(dir)) && lstatSync(dir).uid === process.getuid?.();
}

/** Creates the socket directory (0750) and clears a stale socket; refuses a live one or a non-socket file. */
export async function prepareSocketPath(path: string, protectedDirs: string[]): Promise<void> {
  const dir = dirname(path);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    chmodSync(dir, 0o750);
  } else if (ownSocketDir(dir, protectedDirs)) {
    const mode = lstatSync(dir).mode;
    if ((mode & 0o027) !== 0) chmodSync(dir, mode & 0o750);
  }
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) {
    throw new SocketPathError(`${path} exists and is not a socket; refusing to remove it. Move it away or choose another --socket path.`);
  }
  const probe = await probeSocket(path);
  if (probe === "live") {
    throw new SocketPathError(`another daemon is already listening on ${path}. Stop it first, or give this one another --socket path.`);
  }
  if (probe === "error") throw new SocketPathError(`cannot probe existing socket ${path}; check its permissions`);
  unlinkSync(path);
}

/**
 * Makes the listening socket connectable by its group only (0660); with a
 * socket group, gives it and its directory (when the daemon owns it and it is
 * not a shared root such as /run) to that group.
 */
export function grantSocketAccess(path: string, socketGid: number | undefined, protectedDirs: string[], shownAs = path): void {
  chmodSync(path, 0o660);
  if (socketGid === undefined) return;
  const giveTo = (p: string) => {
    try {
      chownSync(p, -1, socketGid);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // `path` may be the temporary name the socket is bound at; the operator knows it by `shownAs`.
      throw new SocketPathError(
        `cannot give ${p === path ? shownAs : p} to group ${socketGid} (${code ?? (err as Error).message}): the daemon's user must be a member of socket_group ` +
          "(systemd: SupplementaryGroups=; otherwise usermod -aG), or run it as root.",
      );
    }
  };
  if (ownSocketDir(dirname(path), protectedDirs)) giveTo(dirname(path));
  giveTo(path);
}
