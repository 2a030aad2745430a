// A streaming reader for JSON-RPC lines too large to buffer (up to any size):
// it keeps only the message's skeleton, the small values near the top (id,
// method, params.name, params._meta, result.isError, error.message, ...), and
// stands OMITTED in for anything deep or long. Memory stays bounded whatever
// the line's size; inside strings it jumps from quote to quote (indexOf), so
// a multi-megabyte text costs little more than copying it.

/** Stands in for a value the skeleton does not keep (too deep, too long, or past the entry cap). */
export const OMITTED: unique symbol = Symbol("omitted");

export interface SkeletonLimits {
  /** Containers deeper than this are not kept (the top-level value is depth 1). */
  maxDepth: number;
  /** Strings longer than this (in bytes) are not kept. */
  maxString: number;
  /** Entries kept per container; further entries are skipped. */
  maxEntries: number;
}

export const DEFAULT_SKELETON_LIMITS: SkeletonLimits = { maxDepth: 4, maxString: 16 * 1024, maxEntries: 1024 };

const VALUE = 0;
const ARRAY_START = 1;
const OBJECT_START = 2;
const KEY = 3;
const COLON = 4;
const AFTER = 5;
const STRING = 6;
const SCALAR = 7;
const DONE = 8;
const FAILED = 9;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

interface Container {
  /** null: this container is being skipped, not kept. */
  value: Record<string, unknown> | unknown[] | null;
  isObject: boolean;
  /** The key whose value comes next (null when it is not kept). */
  key: string | null;
  entries: number;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function isScalarByte(b: number): boolean {
  // digits, sign, dot, exponent and the letters of true/false/null
  return (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2b || b === 0x2e || (b >= 0x61 && b <= 0x7a) || b === 0x45;
}

export class SkeletonParser {
  private state = VALUE;
  private readonly stack: Container[] = [];
  private result: unknown = undefined;
  // The string being read.
  private stringIsKey = false;
  private stringKept = false;
  private stringParts: Buffer[] = [];
  private stringBytes = 0;
  /** Backslashes that ended the previous chunk while inside a string (their parity decides the next quote). */
  private carriedBackslashes = 0;
  private scalar = "";
  private scalarKept = false;

  constructor(private readonly limits: SkeletonLimits = DEFAULT_SKELETON_LIMITS) {}

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    while (i < n && this.state !== FAILED) {
      if (this.state === STRING) {
        i = this.readString(chunk, i);
        continue;
      }
      const b = chunk[i]!;
      if (this.state === SCALAR) {
        const start = i;
        while (i < n && isScalarByte(chunk[i]!)) i++;
        if (this.scalarKept) this.scalar += Buffer.from(chunk.buffer, chunk.byteOffset + start, i - start).toString("latin1");
        if (this.scalar.length > 1024) this.scalarKept = false;
        if (i < n) this.endScalar();
        continue;
      }
      if (isSpace(b)) {
        i++;
        continue;
      }
      switch (this.state) {
        case ARRAY_START:
          if (b === 0x5d) {
            i++;
            this.close(false);
            break;
          }
          this.state = VALUE;
          break;
        case VALUE:
          i++;
          if (b === 0x7b) this.open(true);
          else if (b === 0x5b) this.open(false);
          else if (b === QUOTE) this.startString(false);
          else if (isScalarByte(b)) {
            this.state = SCALAR;
            this.scalarKept = this.keepsNext();
            this.scalar = String.fromCharCode(b);
          } else this.state = FAILED;
          break;
        case OBJECT_START:
        case KEY:
          i++;
          if (b === QUOTE) this.startString(true);
          else if (b === 0x7d && this.state === OBJECT_START) this.close(true);
          else this.state = FAILED;
          break;
        case COLON:
          i++;
          this.state = b === 0x3a ? VALUE : FAILED;
          break;
        case AFTER: {
          i++;
          const top = this.stack[this.stack.length - 1];
          if (top === undefined) this.state = FAILED;
          else if (b === 0x2c) this.state = top.isObject ? KEY : VALUE;
          else if (b === (top.isObject ? 0x7d : 0x5d)) this.close(top.isObject);
          else this.state = FAILED;
          break;
        }
        default: // DONE: only whitespace may follow the value
          this.state = FAILED;
      }
    }
  }

  /** The skeleton, or undefined when the text was not one complete JSON value. */
  finish(): unknown {
    if (this.state === SCALAR) this.endScalar();
    return this.state === DONE ? this.result : undefined;
  }

  /** Whether the value that starts now is kept: its container is kept, not too deep, not past the entry cap. */
  private keepsNext(): boolean {
    const parent = this.stack[this.stack.length - 1];
    if (parent === undefined) return true;
    if (parent.value === null || parent.entries >= this.limits.maxEntries) return false;
    return !parent.isObject || parent.key !== null;
  }

  private open(isObject: boolean): void {
    const kept = this.keepsNext() && this.stack.length < this.limits.maxDepth;
    this.stack.push({ value: kept ? (isObject ? {} : []) : null, isObject, key: null, entries: 0 });
    this.state = isObject ? OBJECT_START : ARRAY_START;
  }

  private close(isObject: boolean): void {
    const top = this.stack.pop()!;
    if (top.isObject !== isObject) {
      this.state = FAILED;
      return;
    }
    this.valueDone(top.value ?? OMITTED);
  }

  private valueDone(value: unknown): void {
    const parent = this.stack[this.stack.length - 1];
    if (parent === undefined) {
      this.result = value;
      this.state = DONE;
      return;
    }
    if (parent.value !== null && parent.entries < this.limits.maxEntries) {
      if (Array.isArray(parent.value)) parent.value.push(value);
      else if (parent.key !== null) Object.defineProperty(parent.value, parent.key, { value, enumerable: true, writable: true, configurable: true });
    }
    parent.entries++;
    parent.key = null;
    this.state = AFTER;
  }

  private startString(isKey: boolean): void {
    this.state = STRING;
    this.stringIsKey = isKey;
    const parent = this.stack[this.stack.length - 1];
    this.stringKept = isKey ? parent !== undefined && parent.value !== null : this.keepsNext();
    this.stringParts = [];
    this.stringBytes = 0;
    this.carriedBackslashes = 0;
  }

  private keepBytes(chunk: Uint8Array, start: number, end: number): void {
    if (!this.stringKept || end <= start) return;
    this.stringBytes += end - start;
    if (this.stringBytes > this.limits.maxString) {
      this.stringKept = false;
      this.stringParts = [];
      return;
    }
    this.stringParts.push(Buffer.from(chunk.subarray(start, end)));
  }

  /** Reads string bytes from `i`; returns where reading stopped (after the closing quote, or the chunk's end). */
  private readString(chunk: Uint8Array, i: number): number {
    const from = i;
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    for (;;) {
      const q = buf.indexOf(QUOTE, i);
      if (q < 0) {
        this.keepBytes(chunk, from, chunk.length);
        let k = chunk.length;
        while (k > from && chunk[k - 1] === BACKSLASH) k--;
        this.carriedBackslashes = k === from ? this.carriedBackslashes + (chunk.length - from) : chunk.length - k;
        return chunk.length;
      }
      let k = q;
      while (k > from && chunk[k - 1] === BACKSLASH) k--;
      let backslashes = q - k;
      if (k === from) backslashes += this.carriedBackslashes;
      this.carriedBackslashes = 0;
      if (backslashes % 2 === 1) {
        i = q + 1;
        continue;
      }
      this.keepBytes(chunk, from, q);
      this.endString();
      return q + 1;
    }
  }

  private endString(): void {
    let text: string | typeof OMITTED = OMITTED;
    if (this.stringKept) {
      try {
        text = JSON.parse(`"${Buffer.concat(this.stringParts).toString("utf8")}"`) as string;
      } catch {
        this.state = FAILED;
        return;
      }
    }
    this.stringParts = [];
    if (this.stringIsKey) {
      const top = this.stack[this.stack.length - 1]!;
      top.key = typeof text === "string" ? text : null;
      this.state = COLON;
      return;
    }
    this.valueDone(text);
  }

  private endScalar(): void {
    if (!this.scalarKept) return this.valueDone(OMITTED);
    let value: unknown;
    try {
      value = JSON.parse(this.scalar);
    } catch {
      this.state = FAILED;
      return;
    }
    this.valueDone(value);
  }
}
