// The emitter's transport on Bun's native sockets, for the CLI's short-lived
// emitters (`emit`, `hook`): same contract as the node:net one
// (src/emitter/transport.ts), without loading node:net, which costs a
// process about 3 ms and 5 MB at start.
import type { Socket } from "bun";
import { TransportBase, type ConnectionHandlers, type TransportFactory } from "../emitter/transport.ts";

interface PendingWrite {
  bytes: Uint8Array;
  done: (err?: NodeJS.ErrnoException | null) => void;
}

class BunConnection extends TransportBase {
  private socket: Socket<undefined> | null = null;
  private readonly pending: PendingWrite[] = [];
  private ending = false;

  constructor(path: string, connectTimeoutMs: number, handlers: ConnectionHandlers) {
    super(path, connectTimeoutMs, handlers);
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
          this.connected();
          this.flush();
        },
        data: () => this.nakReceived(),
        drain: () => this.flush(),
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

  protected override connectFailed(err: NodeJS.ErrnoException): void {
    // Bun gives no code when the daemon closes the connection at accept (a refused user).
    if (err.code !== undefined) return super.connectFailed(err);
    this.fail("connect_failed", `the daemon at ${this.path} closed the connection before accepting anything (${err.message})`);
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

  protected terminate(): void {
    this.socket?.terminate();
  }

  protected halfClose(): void {
    // The half-close goes out once every queued byte is written (flush).
    this.ending = true;
    this.flush();
  }
}

export const bunTransport: TransportFactory = (path, connectTimeoutMs, handlers) => new BunConnection(path, connectTimeoutMs, handlers);
