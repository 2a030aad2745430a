// Writing to stdout for the readers: synchronous (output order is the
// receipts' order, and memory stays flat however much is written), patient
// with a full pipe, and quiet when the reader of the pipe has gone
// (`tail -f | head -3`): that ends the command with exit 0, not an error.
import { writeSync } from "node:fs";
import { isatty } from "node:tty";

/** The reading end of stdout is closed: stop, successfully. */
export class OutputClosed extends Error {}

const pause = new Int32Array(new SharedArrayBuffer(4));

export class Output {
  private pending: string[] = [];
  private pendingBytes = 0;

  /** `tap` sees every byte written, in order (an export's hash and size). */
  constructor(private readonly fd = 1, private readonly tap?: (bytes: Buffer) => void, private readonly flushAt = 256 * 1024) {}

  /** Queues text; written once `flushAt` characters are queued, or at flush(). */
  write(text: string): void {
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (this.pendingBytes >= this.flushAt) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const buf = Buffer.from(this.pending.join(""), "utf8");
    this.pending = [];
    this.pendingBytes = 0;
    this.tap?.(buf);
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(this.fd, buf, off, buf.length - off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EPIPE") throw new OutputClosed();
        // A non-blocking stdout (the runtime makes it so once touched) that is full: wait, do not spin.
        if (code === "EAGAIN") Atomics.wait(pause, 0, 0, 2);
        else throw err;
      }
    }
  }
}

/** Whether stdout is a terminal, asked of the descriptor (touching process.stdout makes it non-blocking). */
export function stdoutIsTerminal(): boolean {
  return isatty(1);
}

/** Columns for tables: the terminal's width, 80 when stdout is not a terminal. */
export function outputWidth(): number {
  if (!stdoutIsTerminal()) return 80;
  const cols = process.stdout.columns;
  return typeof cols === "number" && cols > 0 ? cols : 80;
}

/** Runs a reader command; a closed stdout ends it with exit 0. */
export async function untilOutputCloses(body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof OutputClosed) {
      process.exitCode = 0;
      return;
    }
    throw err;
  }
}
