// One direction's writing end: forwards bytes as they come, with
// backpressure (the reading side pauses while the destination's buffer is
// full), and slips the proxy's own lines (a policy's answer to the client, an
// approved call to the server) in only between two lines of the stream, so
// they can never split a message.
import type { Readable, Writable } from "node:stream";

export class Outlet {
  private atBoundary = true;
  private readonly injected: Buffer[] = [];
  private closed = false;

  constructor(private readonly dest: Writable, private readonly source: Readable | null) {
    dest.on("drain", () => source?.resume());
  }

  /** Bytes of the stream, as read. */
  raw(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    if (this.injected.length > 0) {
      if (!this.atBoundary) {
        const nl = chunk.indexOf(0x0a);
        if (nl < 0) return this.write(chunk, false);
        this.write(chunk.subarray(0, nl + 1), true);
        chunk = chunk.subarray(nl + 1);
      }
      this.flushInjected();
      if (chunk.length === 0) return;
    }
    this.write(chunk, chunk[chunk.length - 1] === 0x0a);
  }

  /** One line of the proxy's own (without newline), written at the next line boundary. */
  inject(line: string | Buffer): void {
    if (this.closed) return;
    this.injected.push(Buffer.concat([typeof line === "string" ? Buffer.from(line, "utf8") : line, Buffer.from("\n")]));
    if (this.atBoundary) this.flushInjected();
  }

  /**
   * The stream has ended: writes the proxy's waiting lines, and resolves once
   * everything written so far is handed to the OS (or the destination failed).
   */
  flush(): Promise<void> {
    if (this.injected.length > 0) {
      // The stream stopped inside a line (a server that died mid-write), which no more bytes will
      // end: a newline first, or the proxy's answer would be glued to that line and unreadable.
      if (!this.atBoundary) this.write(Buffer.from("\n"), true);
      this.flushInjected();
    }
    return new Promise((resolve) => {
      if (this.closed || this.dest.destroyed) return resolve();
      this.dest.write("", () => resolve());
    });
  }

  end(): void {
    if (this.closed) return;
    this.flushInjected();
    this.closed = true;
    this.dest.end();
  }

  private flushInjected(): void {
    for (const line of this.injected.splice(0)) this.write(line, true);
  }

  private write(bytes: Buffer, endsLine: boolean): void {
    this.atBoundary = endsLine;
    if (this.dest.destroyed) return;
    if (!this.dest.write(bytes)) this.source?.pause();
  }
}
