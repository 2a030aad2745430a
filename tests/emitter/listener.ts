// A real Unix-socket listener standing in for the daemon in emitter unit
// tests: decodes frames with the project's FrameDecoder, records them per
// connection, and can stall (never read) or confirm half-closes like the daemon.
import { createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { FrameDecoder, type FramingError } from "../../src/protocol/framing.ts";
import { tempDir } from "../helpers/fixtures.ts";

export type ReceivedFrame = Record<string, unknown> & { drop_count?: number; input?: unknown };

export interface ListenerConnection {
  socket: Socket;
  frames: ReceivedFrame[];
  /** Framing error seen at EOF or on a bad header (a cut frame), if any. */
  framingError: FramingError | null;
  ended: boolean;
}

export interface ListenerOptions {
  /** Accept but never read: the kernel buffers fill and the emitter stalls. */
  stalled?: boolean;
  /** Close a half-closed connection, as the daemon does once it committed its frames (default true). */
  confirm?: boolean;
}

export class TestListener {
  readonly connections: ListenerConnection[] = [];
  private constructor(readonly path: string, private readonly server: Server) {}

  static async start(path = join(tempDir("ar-emit-"), "events.sock"), opts: ListenerOptions = {}): Promise<TestListener> {
    rmSync(path, { force: true });
    let listener!: TestListener;
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: opts.stalled === true }, (socket) => {
      const conn: ListenerConnection = { socket, frames: [], framingError: null, ended: false };
      listener.connections.push(conn);
      const decoder = new FrameDecoder();
      socket.on("data", (chunk: Buffer) => {
        const { frames, error } = decoder.feed(chunk);
        for (const body of frames) conn.frames.push(JSON.parse(body.toString("utf8")) as ReceivedFrame);
        if (error !== null) {
          conn.framingError = error;
          socket.destroy();
        }
      });
      socket.on("end", () => {
        conn.ended = true;
        conn.framingError ??= decoder.finish();
        if (opts.confirm !== false) socket.end();
      });
      socket.on("error", () => {});
    });
    listener = new TestListener(path, server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
    return listener;
  }

  /** Every frame received so far, across connections, in order. */
  frames(): ReceivedFrame[] {
    return this.connections.flatMap((c) => c.frames);
  }

  /** Starts reading on stalled connections. */
  resume(): void {
    for (const c of this.connections) c.socket.resume();
  }

  async waitForFrames(n: number, timeoutMs = 5000): Promise<ReceivedFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames().length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} frames, got ${this.frames().length}`);
      await Bun.sleep(5);
    }
    return this.frames();
  }

  /** Stops listening and drops every connection, like a daemon going away. */
  async stop(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}
