// One Unix-socket connection to the daemon, as the emitter needs it: a bounded
// connect, ordered writes, a single "lost" notification however it ends, and a
// bounded half-close that waits for the daemon to close its side.
import { createConnection, type Socket } from "node:net";
import type { TransportFailure } from "./errors.ts";
import { refusalCause } from "./listening.ts";

export interface ConnectionHandlers {
  connected(): void;
  /** Called exactly once, whatever ends the connection (error, timeout, the daemon closing it). */
  lost(kind: TransportFailure, message: string, code?: string): void;
}

/**
 * Why a connect failed, and the error code that says so. EAGAIN stands for
 * "a daemon is there but did not accept" (its queue of pending connections is
 * full, or it paused accepting), also when the runtime reported ECONNREFUSED.
 */
function connectError(path: string, err: NodeJS.ErrnoException): { message: string; code: string | undefined } {
  const busy = (pid?: number) => ({
    message: `the daemon at ${path}${pid === undefined ? "" : ` (pid ${pid})`} is not accepting connections: it is stalled or overloaded (its queue of pending connections is full, or it paused accepting)`,
    code: "EAGAIN",
  });
  switch (err.code) {
    case "ENOENT":
      return { message: `no daemon socket at ${path} (ENOENT)`, code: err.code };
    case "EAGAIN":
      return busy();
    case "ECONNREFUSED": {
      // "No daemon" only when nothing is there.
      const cause = refusalCause(path);
      if (cause.kind === "busy") return busy(cause.pid);
      if (cause.kind === "absent") return { message: `no daemon listening at ${path} (ECONNREFUSED: the socket file is left over)`, code: err.code };
      return { message: `nothing accepted the connection at ${path} (ECONNREFUSED): no daemon listens there, or it is too busy to accept`, code: err.code };
    }
    case "EACCES":
      return { message: `no permission to connect to ${path} (EACCES)`, code: err.code };
    default:
      return { message: `cannot connect to ${path}: ${err.message}`, code: err.code };
  }
}

export class Connection {
  ready = false;
  private gone = false;
  private readonly socket: Socket;
  private readonly connectTimer: ReturnType<typeof setTimeout>;
  private settleClose: ((confirmed: boolean) => void) | null = null;
  /** The daemon wrote a byte: it is closing without having committed everything (docs/protocol.md §2.4). */
  private notCommitted = false;

  constructor(
    readonly path: string,
    connectTimeoutMs: number,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.socket = createConnection({ path, allowHalfOpen: true });
    // An idle connection must not keep the host process alive; pending work is held by timers.
    this.socket.unref();
    this.connectTimer = setTimeout(() => this.fail("connect_timeout", `no connection to ${path} within ${connectTimeoutMs} ms`), connectTimeoutMs);
    this.socket.once("connect", () => {
      if (this.gone) return;
      clearTimeout(this.connectTimer);
      this.ready = true;
      handlers.connected();
    });
    this.socket.on("error", (err: NodeJS.ErrnoException) => {
      if (this.ready) this.fail("connection_closed", `connection to ${path} failed: ${err.message}`, err.code);
      else {
        const { message, code } = connectError(path, err);
        this.fail("connect_failed", message, code);
      }
    });
    // The daemon writes only to say that its close is not a confirmation (it stopped before committing).
    this.socket.on("data", () => {
      this.notCommitted = true;
    });
    this.socket.on("end", () => {
      this.settleClose?.(!this.notCommitted);
      this.fail("connection_closed", this.notCommitted
        ? `the daemon at ${path} closed the connection without committing every event (it was stopping and could not write its database)`
        : `the daemon closed the connection at ${path}`);
    });
    this.socket.on("close", () => this.fail("connection_closed", `the connection to ${path} closed`));
    this.socket.resume();
  }

  write(bytes: Uint8Array, done: (err?: NodeJS.ErrnoException | null) => void): void {
    this.socket.write(bytes, done);
  }

  /** Drops the connection (idempotent). A frame cut short is discarded by the daemon, never misread. */
  fail(kind: TransportFailure, message: string, code?: string): void {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.connectTimer);
    this.socket.destroy();
    this.settleClose?.(false);
    this.handlers.lost(kind, message, code);
  }

  destroy(): void {
    this.fail("connection_closed", "closed by the emitter");
  }

  /** Half-closes, then resolves true if the daemon closes its side within `timeoutMs`. */
  endAndAwaitClose(timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (this.gone) return resolve(false);
      const timer = setTimeout(() => this.fail("connection_closed", `the daemon did not confirm within ${timeoutMs} ms`), timeoutMs);
      this.settleClose = (confirmed) => {
        this.settleClose = null;
        clearTimeout(timer);
        resolve(confirmed);
      };
      this.socket.end();
    });
  }
}
