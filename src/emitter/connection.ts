// One Unix-socket connection to the daemon over node:net (the transport of the
// published package; see transport.ts for the contract).
import { createConnection, type Socket } from "node:net";
import type { TransportFailure } from "./errors.ts";
import { connectError, type ConnectionHandlers, type Transport } from "./transport.ts";

/** The node:net transport: Node.js 20+ and Bun. */
export class Connection implements Transport {
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
