// The emitter's transport on Bun's native sockets, for the CLI's short-lived
// emitters (`emit`, `hook`): same contract as the node:net one
// (src/emitter/transport.ts), without loading node:net, which costs a
// process about 3 ms and 5 MB at start.
import type { Socket } from "bun";
import type { TransportFailure } from "../emitter/errors.ts";
import { connectError, type ConnectionHandlers, type Transport, type TransportFactory } from "../emitter/transport.ts";

interface PendingWrite {
  bytes: Uint8Array;
  done: (err?: NodeJS.ErrnoException | null) => void;
}

class BunConnection implements Transport {
  ready = false;
  private gone = false;
  private socket: Socket<undefined> | null = null;
  private readonly connectTimer: ReturnType<typeof setTimeout>;
  private readonly pending: PendingWrite[] = [];
  private ending = false;
  private settleClose: ((confirmed: boolean) => void) | null = null;
  /** The daemon wrote a byte: it is closing without having committed everything (docs/protocol.md §2.4). */
  private notCommitted = false;

  constructor(readonly path: string, connectTimeoutMs: number, private readonly handlers: ConnectionHandlers) {
    this.connectTimer = setTimeout(() => this.fail("connect_timeout", `no connection to ${path} within ${connectTimeoutMs} ms`), connectTimeoutMs);
    // Started after the constructor returns: Bun may report a failure from
    // inside Bun.connect(), and the emitter must hold this connection first.
    queueMicrotask(() => this.connect(path));
  }

  private connect(path: string): void {
    if (this.gone) return;
    Bun.connect({
      unix: path,
      allowHalfOpen: true,
      socket: {
        open: (socket) => {
          if (this.gone) return void socket.terminate();
          this.socket = socket;
          // An idle connection must not keep the host process alive; pending work is held by timers.
          socket.unref();
          clearTimeout(this.connectTimer);
          this.ready = true;
          this.handlers.connected();
          this.flush();
        },
        data: () => {
          this.notCommitted = true;
        },
        drain: () => this.flush(),
        // The daemon's close after our half-close: a confirmation unless it wrote its NAK byte first.
        end: () => this.closedByDaemon(),
        close: (_socket, err) => {
          if (err) this.fail("connection_closed", `connection to ${path} failed: ${err.message}`, (err as NodeJS.ErrnoException).code);
          else this.closedByDaemon();
        },
        error: (_socket, err) => this.fail("connection_closed", `connection to ${path} failed: ${err.message}`, (err as NodeJS.ErrnoException).code),
        connectError: (_socket, err) => this.connectFailed(err as NodeJS.ErrnoException),
      },
    }).catch((err: NodeJS.ErrnoException) => this.connectFailed(err));
  }

  private connectFailed(err: NodeJS.ErrnoException): void {
    // Bun gives no code when the daemon closes the connection at accept (a refused user).
    const { message, code } = err.code === undefined
      ? { message: `the daemon at ${this.path} closed the connection before accepting anything (${err.message})`, code: undefined }
      : connectError(this.path, err);
    this.fail("connect_failed", message, code);
  }

  private closedByDaemon(): void {
    // Our own terminate() (a timeout, a failed write) also ends in `close`: that is no confirmation.
    if (this.gone) return;
    this.settleClose?.(!this.notCommitted);
    this.fail("connection_closed", this.notCommitted
      ? `the daemon at ${this.path} closed the connection without committing every event (it was stopping and could not write its database)`
      : `the daemon closed the connection at ${this.path}`);
  }

  write(bytes: Uint8Array, done: (err?: NodeJS.ErrnoException | null) => void): void {
    this.pending.push({ bytes, done });
    if (this.ready) this.flush();
  }

  /** Hands queued bytes to the kernel in order; a short write waits for `drain`. */
  private flush(): void {
    const socket = this.socket;
    if (socket === null || this.gone) return;
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      const written = socket.write(head.bytes);
      if (written < 0) return this.fail("connection_closed", `write EPIPE: the daemon at ${this.path} closed the connection`, "EPIPE");
      if (written < head.bytes.length) {
        head.bytes = head.bytes.subarray(written);
        return;
      }
      this.pending.shift();
      head.done(null);
    }
    if (this.ending) socket.shutdown();
  }

  fail(kind: TransportFailure, message: string, code?: string): void {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.connectTimer);
    this.settleClose?.(false);
    this.socket?.terminate();
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
      // The half-close goes out once every queued byte is written (flush).
      this.ending = true;
      this.flush();
    });
  }
}

export const bunTransport: TransportFactory = (path, connectTimeoutMs, handlers) => new BunConnection(path, connectTimeoutMs, handlers);
