// One Unix-socket connection to the daemon over node:net (the transport of the
// published package; see transport.ts for the contract).
import { createConnection, type Socket } from "node:net";
import { TransportBase, type ConnectionHandlers } from "./transport.ts";

/** The node:net transport: Node.js 20+ and Bun. */
export class Connection extends TransportBase {
  private readonly socket: Socket;

  constructor(path: string, connectTimeoutMs: number, handlers: ConnectionHandlers) {
    super(path, connectTimeoutMs, handlers);
    this.socket = createConnection({ path, allowHalfOpen: true });
    // An idle connection must not keep the host process alive; pending work is held by timers.
    this.socket.unref();
    this.socket.once("connect", () => {
      if (!this.gone) this.connected();
    });
    this.socket.on("error", (err: NodeJS.ErrnoException) => {
      if (this.ready) this.fail("connection_closed", `connection to ${path} failed: ${err.message}`, err.code);
      else this.connectFailed(err);
    });
    this.socket.on("data", () => this.nakReceived());
    this.socket.on("end", () => this.closedByDaemon());
    this.socket.on("close", () => this.fail("connection_closed", `the connection to ${path} closed`));
    this.socket.resume();
  }

  write(bytes: Uint8Array, done: (err?: NodeJS.ErrnoException | null) => void): void {
    this.socket.write(bytes, done);
  }

  protected terminate(): void {
    this.socket.destroy();
  }

  protected halfClose(): void {
    this.socket.end();
  }
}
