// One Unix-socket connection to the daemon, as the emitter needs it: a bounded
// connect, ordered writes, a single "lost" notification however it ends, and a
// bounded half-close that waits for the daemon to close its side.
import { createConnection, type Socket } from "node:net";
import type { TransportFailure } from "./errors.ts";

export interface ConnectionHandlers {
  connected(): void;
  /** Called exactly once, whatever ends the connection (error, timeout, the daemon closing it). */
  lost(kind: TransportFailure, message: string, code?: string): void;
}

function connectError(path: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ENOENT":
      return `no daemon socket at ${path} (ENOENT)`;
    case "ECONNREFUSED":
      return `no daemon listening at ${path} (ECONNREFUSED)`;
    case "EACCES":
      return `no permission to connect to ${path} (EACCES)`;
    default:
      return `cannot connect to ${path}: ${err.message}`;
  }
}

export class Connection {
  ready = false;
  private gone = false;
  private readonly socket: Socket;
  private readonly connectTimer: ReturnType<typeof setTimeout>;
  private settleClose: ((confirmed: boolean) => void) | null = null;

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
      else this.fail("connect_failed", connectError(path, err), err.code);
    });
    // The daemon never writes; its end of stream means it closed the connection.
    this.socket.on("end", () => {
      this.settleClose?.(true);
      this.fail("connection_closed", `the daemon closed the connection at ${path}`);
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
