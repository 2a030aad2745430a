// What the emitter needs of one Unix-socket connection to the daemon: a
// bounded connect, ordered writes, a single "lost" notification however it
// ends, and a bounded half-close that waits for the daemon to close its side.
// Two implementations: node:net (connection.ts, the published package) and
// Bun's native sockets (the CLI's short-lived `emit` and `hook`, which start
// faster without node:net).
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
export function connectError(path: string, err: NodeJS.ErrnoException): { message: string; code: string | undefined } {
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

export interface Transport {
  readonly ready: boolean;
  /** Writes in order; `done` once the bytes are handed to the kernel (or with the error). */
  write(bytes: Uint8Array, done: (err?: NodeJS.ErrnoException | null) => void): void;
  /** Drops the connection (idempotent); `lost` is called once. */
  fail(kind: TransportFailure, message: string, code?: string): void;
  destroy(): void;
  /** Half-closes, then resolves true if the daemon closes its side within `timeoutMs` without a NAK byte. */
  endAndAwaitClose(timeoutMs: number): Promise<boolean>;
}

export type TransportFactory = (path: string, connectTimeoutMs: number, handlers: ConnectionHandlers) => Transport;

/**
 * The lifecycle both transports share: a bounded connect, one `lost` however
 * the connection ends, and the confirmation rule (the daemon's close after
 * our half-close, unless it wrote its NAK byte first: docs/protocol.md §2.4).
 * Subclasses supply the socket: `terminate` and `halfClose`.
 */
export abstract class TransportBase implements Transport {
  ready = false;
  protected gone = false;
  private readonly connectTimer: ReturnType<typeof setTimeout>;
  private settleClose: ((confirmed: boolean) => void) | null = null;
  private notCommitted = false;

  constructor(readonly path: string, connectTimeoutMs: number, private readonly handlers: ConnectionHandlers) {
    this.connectTimer = setTimeout(() => this.fail("connect_timeout", `no connection to ${path} within ${connectTimeoutMs} ms`), connectTimeoutMs);
  }

  abstract write(bytes: Uint8Array, done: (err?: NodeJS.ErrnoException | null) => void): void;
  /** Drops the socket at once. */
  protected abstract terminate(): void;
  /** Sends the half-close once every queued byte is written. */
  protected abstract halfClose(): void;

  protected connected(): void {
    clearTimeout(this.connectTimer);
    this.ready = true;
    this.handlers.connected();
  }

  protected connectFailed(err: NodeJS.ErrnoException): void {
    const { message, code } = connectError(this.path, err);
    this.fail("connect_failed", message, code);
  }

  /** The daemon wrote a byte: it is closing without having committed everything. */
  protected nakReceived(): void {
    this.notCommitted = true;
  }

  protected closedByDaemon(): void {
    // Our own terminate() (a timeout, a failed write) may also end in a close: that is no confirmation.
    if (this.gone) return;
    this.settleClose?.(!this.notCommitted);
    this.fail("connection_closed", this.notCommitted
      ? `the daemon at ${this.path} closed the connection without committing every event (it was stopping and could not write its database)`
      : `the daemon closed the connection at ${this.path}`);
  }

  /** Drops the connection (idempotent). A frame cut short is discarded by the daemon, never misread. */
  fail(kind: TransportFailure, message: string, code?: string): void {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.connectTimer);
    this.settleClose?.(false);
    this.terminate();
    this.handlers.lost(kind, message, code);
  }

  destroy(): void {
    this.fail("connection_closed", "closed by the emitter");
  }

  endAndAwaitClose(timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (this.gone) return resolve(false);
      const timer = setTimeout(() => this.fail("connection_closed", `the daemon did not confirm within ${timeoutMs} ms`), timeoutMs);
      this.settleClose = (confirmed) => {
        this.settleClose = null;
        clearTimeout(timer);
        resolve(confirmed);
      };
      this.halfClose();
    });
  }
}
