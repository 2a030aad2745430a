// Can this process reach the daemon? One connection, no frame: the daemon
// never writes and never closes an accepted connection on its own, but it
// closes a peer its allow-list refuses at once, before reading a byte. So a
// close within HOLD_MS of connecting means "refused", and a connection still
// open after it means "accepted". Nothing is recorded either way.
import { createConnection } from "node:net";
import { unixSocketListening } from "../emitter/listening.ts";

const CONNECT_TIMEOUT_MS = 1000;
const HOLD_MS = 150;

export type ConnectOutcome =
  /** Connected, and the daemon kept the connection open. */
  | "accepted"
  /** Connected, then closed at once by the daemon: its allow-list refuses this user. */
  | "refused"
  /** No file at the path. */
  | "no_socket"
  /** A socket file nobody listens on (left over by a daemon that did not stop cleanly). */
  | "not_listening"
  /** The filesystem refuses: no search permission on the directory or no write permission on the socket. */
  | "no_permission"
  /** Something listens but does not accept in time (stalled or overloaded). */
  | "busy"
  | "error";

export interface ConnectResult {
  outcome: ConnectOutcome;
  /** The system error code, when there was one. */
  code: string | null;
  message: string;
}

function fromError(path: string, err: NodeJS.ErrnoException): ConnectResult {
  const code = err.code ?? null;
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return { outcome: "no_socket", code, message: `no socket at ${path}` };
    case "EACCES":
    case "EPERM":
      return { outcome: "no_permission", code, message: `no permission to connect to ${path} (${code})` };
    case "ECONNRESET":
    case "EPIPE":
      // The daemon closed the connection as it was being set up: a refusal at accept.
      return { outcome: "refused", code, message: `the daemon at ${path} closed the connection at once: it refuses this user` };
    case "EAGAIN":
      return { outcome: "busy", code, message: `the daemon at ${path} does not accept connections: its queue of pending connections is full` };
    case "ECONNREFUSED":
      // Linux also refuses when the listener's queue is full: the kernel's socket table tells the two apart.
      return unixSocketListening(path) === true
        ? { outcome: "busy", code, message: `the daemon at ${path} does not accept connections: its queue of pending connections is full` }
        : { outcome: "not_listening", code, message: `no daemon listens at ${path} (the socket file is left over)` };
    default:
      return { outcome: "error", code, message: `cannot connect to ${path}: ${err.message}` };
  }
}

export function probeConnect(path: string): Promise<ConnectResult> {
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    const sock = createConnection({ path });
    const finish = (r: ConnectResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    let timer = setTimeout(() => {
      finish(connected
        ? { outcome: "accepted", code: null, message: `connected to ${path}` }
        : { outcome: "busy", code: null, message: `no connection to ${path} within ${CONNECT_TIMEOUT_MS} ms (the daemon is stalled or overloaded)` });
    }, CONNECT_TIMEOUT_MS);
    sock.once("connect", () => {
      connected = true;
      clearTimeout(timer);
      timer = setTimeout(() => finish({ outcome: "accepted", code: null, message: `connected to ${path}` }), HOLD_MS);
    });
    const closedByDaemon = () => finish({ outcome: "refused", code: null, message: `the daemon at ${path} closed the connection at once: it refuses this user` });
    sock.on("data", () => {});
    sock.once("end", closedByDaemon);
    sock.once("close", () => (connected ? closedByDaemon() : undefined));
    sock.once("error", (err: NodeJS.ErrnoException) => (connected ? closedByDaemon() : finish(fromError(path, err))));
  });
}
