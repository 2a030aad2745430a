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
  /**
   * Keep only what the proxy reads of a JSON-RPC message or batch (MESSAGE_KEYS),
   * instead of everything within maxDepth / maxEntries. An entry cap would let
   * a long line hide a message's `name` or `method` behind a thousand other
   * keys from the tracker and the policy; a whitelist keeps those whatever
   * precedes them, and keeps memory small (a payload of small numbers no
   * longer costs a JS value each). A batch keeps maxEntries elements.
   */
  messages?: boolean;
}

export const DEFAULT_SKELETON_LIMITS: SkeletonLimits = { maxDepth: 4, maxString: 16 * 1024, maxEntries: 1024, messages: true };

/** What a kept container is, in messages mode ("any": not in messages mode). */
type Role = "any" | "batch" | "message" | "body" | "meta" | "info" | "content" | "item";

/** Keys kept per role (tracker.ts, jsonrpc.ts, gate.ts read nothing else), and the role of a container under each. */
const MESSAGE_KEYS: Partial<Record<Role, Record<string, Role | null>>> = {
  message: { jsonrpc: null, id: null, method: null, params: "body", result: "body", error: "body" },
  body: {
    name: null, arguments: null, _meta: "meta", requestId: null, reason: null, requestState: null, inputResponses: null,
    isError: null, resultType: null, serverInfo: "info", content: "content", code: null, message: null,
  },
  meta: { "claudecode/toolUseId": null },
  info: { name: null },
  item: { type: null, text: null },
};
/** Content blocks kept of a result (their texts make an isError result's error text). */
const MAX_CONTENT_ITEMS = 16;

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
  role: Role;
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
  /**
   * Containers nested inside a skipped one, one bit each (1: an object):
   * all the parser needs of them is which bracket closes them. A Container
   * object per level would cost some 50 bytes per `[` of a line nested
   * millions deep (gigabytes for a 64 MiB line of `[`).
   */
  private skipped: Uint8Array | null = null;
  private skippedDepth = 0;
  /** Elements of a top-level array (a batch) past the entry cap: parsed, not kept. */
  batchElementsNotKept = 0;

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
          if (top === undefined) {
            this.state = FAILED;
            break;
          }
          const isObject = this.skippedDepth > 0 ? this.skippedIsObject(this.skippedDepth - 1) : top.isObject;
          if (b === 0x2c) this.state = isObject ? KEY : VALUE;
          else if (b === (isObject ? 0x7d : 0x5d)) this.close(isObject);
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

  /** Whether the value that starts now is kept: its container is kept, its key is, and it is not past the entry cap. */
  private keepsNext(): boolean {
    if (this.skippedDepth > 0) return false;
    const parent = this.stack[this.stack.length - 1];
    if (parent === undefined) return true;
    if (parent.value === null || !this.hasRoom(parent)) return false;
    return !parent.isObject || parent.key !== null;
  }

  /**
   * Whether one more entry of `c` is kept. In messages mode objects keep a
   * fixed set of keys; a batch keeps its first maxEntries elements (the
   * gated relay reads the others from the line's bytes; see gate.ts).
   */
  private hasRoom(c: Container): boolean {
    if (c.role === "any" || c.role === "batch") return c.entries < this.limits.maxEntries;
    if (c.role === "content") return c.entries < MAX_CONTENT_ITEMS;
    return true;
  }

  /** The role of a container opening now under a kept `parent` (null: not kept). */
  private roleOf(parent: Container | undefined, isObject: boolean): Role | null {
    if (!this.limits.messages) return this.stack.length < this.limits.maxDepth ? "any" : null;
    if (parent === undefined) return isObject ? "message" : "batch";
    if (parent.role === "batch") return isObject ? "message" : null;
    if (parent.role === "content") return isObject ? "item" : null;
    const role = parent.key === null ? null : MESSAGE_KEYS[parent.role]?.[parent.key] ?? null;
    // `content` is an array of blocks; the others are objects.
    return role !== null && isObject === (role !== "content") ? role : null;
  }

  private open(isObject: boolean): void {
    const parent = this.stack[this.stack.length - 1];
    if (this.skippedDepth > 0 || (parent !== undefined && parent.value === null)) {
      // Inside a skipped container: one bit, however deep the nesting goes.
      let bits = this.skipped ?? (this.skipped = new Uint8Array(64));
      if (this.skippedDepth === bits.length * 8) {
        bits = new Uint8Array(bits.length * 2);
        bits.set(this.skipped);
        this.skipped = bits;
      }
      const d = this.skippedDepth++;
      if (isObject) bits[d >> 3]! |= 1 << (d & 7);
      else bits[d >> 3]! &= ~(1 << (d & 7));
      this.state = isObject ? OBJECT_START : ARRAY_START;
      return;
    }
    const role = this.keepsNext() ? this.roleOf(parent, isObject) : null;
    this.stack.push({ role: role ?? "any", value: role !== null ? (isObject ? {} : []) : null, isObject, key: null, entries: 0 });
    this.state = isObject ? OBJECT_START : ARRAY_START;
  }

  private skippedIsObject(d: number): boolean {
    return (this.skipped![d >> 3]! & (1 << (d & 7))) !== 0;
  }

  private close(isObject: boolean): void {
    if (this.skippedDepth > 0) {
      if (this.skippedIsObject(--this.skippedDepth) !== isObject) {
        this.state = FAILED;
        return;
      }
      return this.valueDone(OMITTED);
    }
    const top = this.stack.pop()!;
    if (top.isObject !== isObject) {
      this.state = FAILED;
      return;
    }
    this.valueDone(top.value ?? OMITTED);
  }

  private valueDone(value: unknown): void {
    if (this.skippedDepth > 0) {
      this.state = AFTER;
      return;
    }
    const parent = this.stack[this.stack.length - 1];
    if (parent === undefined) {
      this.result = value;
      this.state = DONE;
      return;
    }
    if (parent.value !== null && this.hasRoom(parent)) {
      if (Array.isArray(parent.value)) parent.value.push(value);
      else if (parent.key !== null) Object.defineProperty(parent.value, parent.key, { value, enumerable: true, writable: true, configurable: true });
    } else if (parent.value !== null && this.stack.length === 1) {
      this.batchElementsNotKept++;
    }
    parent.entries++;
    parent.key = null;
    this.state = AFTER;
  }

  private startString(isKey: boolean): void {
    this.state = STRING;
    this.stringIsKey = isKey;
    const parent = this.stack[this.stack.length - 1];
    // A batch's elements are messages: a string there is not one.
    this.stringKept = isKey ? parent !== undefined && parent.value !== null : this.keepsNext() && parent?.role !== "batch";
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
      if (this.skippedDepth > 0) {
        this.state = COLON;
        return;
      }
      const top = this.stack[this.stack.length - 1]!;
      const keys = MESSAGE_KEYS[top.role];
      top.key = typeof text === "string" && (keys === undefined || Object.hasOwn(keys, text)) ? text : null;
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
