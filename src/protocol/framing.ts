// Length-prefixed framing (docs/protocol.md §2): 4-byte big-endian length, then 1..1 MiB
// of UTF-8 JSON. Plain Node APIs: the emitter bundle uses encodeFrame.

export const MAX_FRAME_BYTES = 1024 * 1024;
export const HEADER_BYTES = 4;

export class FrameTooLargeError extends RangeError {}

export function encodeFrame(json: string): Buffer {
  const length = Buffer.byteLength(json, "utf8");
  if (length > MAX_FRAME_BYTES) {
    throw new FrameTooLargeError(`frame is ${length} bytes; the limit is ${MAX_FRAME_BYTES} bytes (1 MiB)`);
  }
  const buf = Buffer.allocUnsafe(HEADER_BYTES + length);
  buf.writeUInt32BE(length, 0);
  buf.write(json, HEADER_BYTES, "utf8");
  return buf;
}

export type FramingErrorKind = "zero_length" | "too_large" | "truncated_header" | "truncated_body";

export class FramingError extends Error {
  constructor(readonly kind: FramingErrorKind, message: string) {
    super(message);
  }
}

/**
 * Incremental decoder for one connection. Robust to any chunking; holds at most
 * one partial frame (bounded by the 1 MiB limit), so a slow client costs ~1 MiB.
 */
export class FrameDecoder {
  private header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  private body: Buffer | null = null;
  private bodyFill = 0;

  /**
   * Feeds bytes; returns the complete frames and, on a bad length, the error.
   * Frames completed before the bad header are still returned: they were whole.
   */
  feed(chunk: Uint8Array): { frames: Buffer[]; error: FramingError | null } {
    const frames: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.body === null) {
        const take = Math.min(HEADER_BYTES - this.headerFill, chunk.length - offset);
        this.header.set(chunk.subarray(offset, offset + take), this.headerFill);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < HEADER_BYTES) break;
        const length = this.header.readUInt32BE(0);
        this.headerFill = 0;
        if (length === 0) return { frames, error: new FramingError("zero_length", "frame length is 0") };
        if (length > MAX_FRAME_BYTES) {
          return { frames, error: new FramingError("too_large", `frame length ${length} exceeds the 1 MiB limit (${MAX_FRAME_BYTES} bytes)`) };
        }
        // Whole body already in this chunk: slice without copying into a new buffer.
        if (chunk.length - offset >= length) {
          frames.push(Buffer.from(chunk.buffer, chunk.byteOffset + offset, length));
          offset += length;
          continue;
        }
        this.body = Buffer.allocUnsafe(length);
        this.bodyFill = 0;
      }
      const take = Math.min(this.body.length - this.bodyFill, chunk.length - offset);
      this.body.set(chunk.subarray(offset, offset + take), this.bodyFill);
      this.bodyFill += take;
      offset += take;
      if (this.bodyFill === this.body.length) {
        frames.push(this.body);
        this.body = null;
      }
    }
    return { frames, error: null };
  }

  /** Called at EOF: a partial header or body is a framing error, a clean boundary is not. */
  finish(): FramingError | null {
    if (this.body !== null) {
      return new FramingError("truncated_body", `connection closed inside a frame body (${this.bodyFill} of ${this.body.length} bytes)`);
    }
    if (this.headerFill > 0) return new FramingError("truncated_header", `connection closed inside a frame header (${this.headerFill} of 4 bytes)`);
    return null;
  }

  /** Bytes buffered for a partial frame. */
  get buffered(): number {
    return this.headerFill + (this.body === null ? 0 : this.bodyFill);
  }

  /** Memory held for the partial frame: the body is allocated whole when its header arrives. */
  get reserved(): number {
    return this.headerFill + (this.body === null ? 0 : this.body.length);
  }
}
