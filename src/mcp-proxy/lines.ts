// Splits one direction's byte stream into newline-delimited messages, across
// any number of reads. A line up to `bufferLimit` bytes is buffered and parsed
// whole (a copy: the relay forwards the original bytes); a longer one is read
// as it streams by (skeleton.ts) and hashed, so a 64 MiB message costs no more
// memory than a small one.
import { SkeletonParser } from "./skeleton.ts";

/** One message line as the tracker sees it. */
export interface Line {
  /** The parsed value; for a long line only its skeleton (payloads are OMITTED); undefined when it is not JSON. */
  value: unknown;
  /** False for a long line: its payloads were not kept. */
  complete: boolean;
  /** Length of the line in bytes, without its newline. */
  bytes: number;
  /** Elements of a long line's batch past the skeleton's cap (not in `value`). */
  elementsNotKept?: number;
  /** `sha256:<hex>` of the line's bytes as sent, without its newline. */
  digest(): string;
}

export interface LineSink {
  /** `raw` is the line's bytes when the splitter keeps them (gated relay), without the newline; `terminated`: a newline ended it. */
  line(line: Line, raw: Buffer[] | null, terminated: boolean): void;
}

/** Only lines starting with `{` or `[` can be JSON-RPC: anything else is passed through unparsed. */
function looksLikeJson(first: number | undefined): boolean {
  return first === 0x7b || first === 0x5b;
}

function firstNonSpace(parts: Buffer[]): number | undefined {
  for (const p of parts) {
    for (const b of p) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return b;
  }
  return undefined;
}

function smallLine(parts: Buffer[], size: number): Line {
  const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
  let value: unknown;
  if (looksLikeJson(firstNonSpace(parts))) {
    try {
      value = JSON.parse(bytes.toString("utf8"));
    } catch {
      value = undefined;
    }
  }
  return { value, complete: true, bytes: size, digest: () => `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}` };
}

class LongLine {
  // Bun's hasher: a quarter faster than node:crypto's on this path.
  private readonly hash = new Bun.CryptoHasher("sha256");
  private readonly parser = new SkeletonParser();
  private json: boolean | undefined;
  size = 0;

  push(part: Buffer): void {
    this.size += part.length;
    this.hash.update(part);
    if (this.json === undefined) {
      const first = firstNonSpace([part]);
      if (first !== undefined) this.json = looksLikeJson(first);
    }
    if (this.json === true) this.parser.push(part);
  }

  finish(): Line {
    const value = this.json === true ? this.parser.finish() : undefined;
    const digest = `sha256:${this.hash.digest("hex")}`;
    return { value, complete: false, bytes: this.size, digest: () => digest, elementsNotKept: this.parser.batchElementsNotKept };
  }
}

/** Parts at least this long are always kept as read; shorter ones are copied together once a line has many. */
const KEEP_PART_BYTES = 16 * 1024;
const KEEP_PARTS = 64;

/**
 * The bytes of one line as read. A line that arrives in tiny reads (a client
 * writing a byte at a time) would cost a Buffer object per read, some hundred
 * bytes each: past the first few parts, short ones are copied into shared
 * blocks. A line read in a few parts (the usual case) is never copied.
 */
class RawLine {
  private parts: Buffer[] = [];
  private block: Buffer | null = null;
  private used = 0;

  push(part: Buffer): void {
    if (part.length >= KEEP_PART_BYTES || (this.block === null && this.parts.length < KEEP_PARTS)) {
      this.seal();
      this.parts.push(part);
      return;
    }
    if (this.block !== null && this.used + part.length > this.block.length) this.seal();
    if (this.block === null) {
      this.block = Buffer.allocUnsafe(KEEP_PART_BYTES);
      this.used = 0;
    }
    part.copy(this.block, this.used);
    this.used += part.length;
  }

  /** The line's parts; the RawLine starts over empty. */
  take(): Buffer[] {
    this.seal();
    const parts = this.parts;
    this.parts = [];
    return parts;
  }

  private seal(): void {
    if (this.block === null) return;
    if (this.used > 0) this.parts.push(this.block.subarray(0, this.used));
    this.block = null;
  }
}

export class LineSplitter {
  /** The current line while it is short enough to parse whole. */
  private readonly parts = new RawLine();
  private size = 0;
  private long: LongLine | null = null;
  /** Bytes of the current line kept for forwarding (gated relay only). */
  private readonly raw: RawLine | null;

  constructor(
    private readonly sink: LineSink,
    private readonly bufferLimit: number,
    keepRaw = false,
  ) {
    this.raw = keepRaw ? new RawLine() : null;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      if (end > start) this.append(chunk.subarray(start, end));
      if (nl < 0) return;
      this.endLine(true);
      start = nl + 1;
    }
  }

  /** End of the stream: a last line without a newline is still a line. */
  finish(): void {
    if (this.size > 0 || this.long !== null) this.endLine(false);
  }

  private append(part: Buffer): void {
    this.raw?.push(part);
    if (this.long !== null) {
      this.long.push(part);
      return;
    }
    if (this.size + part.length <= this.bufferLimit) {
      this.parts.push(part);
      this.size += part.length;
      return;
    }
    this.long = new LongLine();
    for (const p of this.parts.take()) this.long.push(p);
    this.long.push(part);
    this.size = 0;
  }

  private endLine(terminated: boolean): void {
    const line = this.long !== null ? this.long.finish() : smallLine(this.parts.take(), this.size);
    const raw = this.raw?.take() ?? null;
    this.size = 0;
    this.long = null;
    this.sink.line(line, raw, terminated);
  }
}
