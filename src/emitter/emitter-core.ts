// The thin emitter (docs/protocol.md §3): one lazily opened Unix-socket connection,
// bounded waits, a bounded queue, and an honest drop count. An event is either
// handed to the kernel whole (true) or counted as dropped (false) and reported
// to the daemon as `drop_count` on the next frame that is handed over.
import { looksLikeTcp } from "../paths/socket-address.ts";
import { MAX_FRAME_BYTES, HEADER_BYTES } from "../protocol/framing.ts";
import { resolveSocketPath } from "../paths/resolve.ts";
import type { Transport, TransportFactory } from "./transport.ts";
import { EmitTransportError, EmitValidationError, type TransportFailure } from "./errors.ts";
import { callerName, eventCandidate, type EmitEvent } from "./event.ts";
import { candidateFrame, encodeChecked, withDropCount, type EncodedFrame, type FrameBase, type FrameFields } from "./frame.ts";

export const DEFAULT_CONNECT_TIMEOUT_MS = 25;
export const DEFAULT_WRITE_TIMEOUT_MS = 100;
/** Room for a few large frames while the daemon is slow; beyond it events are dropped, not buffered. */
export const DEFAULT_MAX_QUEUE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_CONFIRM_TIMEOUT_MS = 1000;

export interface EmitterOptions {
  /** Who is emitting: `sdk`, `mcp`, `cli`, `claude-code`, ... */
  channel: string;
  /** Default: `AGENTRECEIPTS_SOCKET`, else the platform default (the project's one resolver). */
  socketPath?: string;
  /** The host's own session id if it has one; default a fresh UUID v4. Kept for the emitter's life. */
  sessionId?: string;
  /** Reject with EmitTransportError instead of resolving false when an event is not delivered. */
  strict?: boolean;
  connectTimeoutMs?: number;
  writeTimeoutMs?: number;
  /** Bytes of frames waiting for the kernel before new events are dropped. */
  maxQueueBytes?: number;
  issuer?: { name?: string; model?: string };
  operator?: { id: string; name?: string };
  /** Drops an earlier process of this session could not report (short-lived emitters persist them). */
  initialDropCount?: number;
}

export interface CloseOptions {
  /**
   * Half-close and wait for the daemon to close the connection, which it does
   * once it has committed every frame of this connection.
   */
  confirm?: boolean;
  /** Bound on that wait (default 1000 ms). */
  timeoutMs?: number;
}

/** What emitWithKey() resolves to. */
export interface EmitResult {
  /** The whole frame was handed to the daemon's socket (false: dropped and counted). */
  delivered: boolean;
  /** The event's idempotency key (the caller's, else a fresh UUID v4): reuse it when retrying this event. */
  idempotencyKey: string;
}

interface Entry {
  frame: EncodedFrame;
  /** Bytes counted in queuedBytes. */
  size: number;
  /** Drops this frame reports; returned to the count if it is not delivered. */
  carried: number;
  written: boolean;
  deadline: number;
  done: boolean;
  resolve(delivered: boolean): void;
  reject(err: Error): void;
}

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) throw new EmitValidationError(name, `must be a number >= ${min}`);
  return value;
}

/** The emitter, on whichever transport it is given (emitter.ts: node:net). */
function isSocketPath(path: unknown): path is string {
  return typeof path === "string" && path !== "" && !looksLikeTcp(path);
}

export class EmitterCore {
  readonly sessionId: string;
  readonly channel: string;
  /** Given in the options; otherwise resolved again for every new connection (emitterSocket). */
  private readonly givenSocket: string | undefined;
  private currentSocket: string;
  readonly strict: boolean;
  private readonly connectTimeoutMs: number;
  private readonly writeTimeoutMs: number;
  private readonly maxQueueBytes: number;
  private readonly base: FrameBase;
  private conn: Transport | null = null;
  /** Frames not yet handed to the kernel, in write order; all belong to `conn`. */
  private readonly queue: Entry[] = [];
  private bytesQueued = 0;
  private unreported: number;
  private carriedInFlight = 0;
  private droppedTotal = 0;
  private opened = 0;
  private watchdog: ReturnType<typeof setTimeout> | null = null;
  private drainWaiters: Array<() => void> = [];
  private closed: Promise<boolean> | null = null;

  constructor(options: EmitterOptions, private readonly transport: TransportFactory) {
    if (typeof options !== "object" || options === null) throw new EmitValidationError("options", "must be an object with a channel");
    this.channel = options.channel;
    this.sessionId = options.sessionId ?? globalThis.crypto.randomUUID();
    this.strict = options.strict === true;
    this.connectTimeoutMs = positive("connectTimeoutMs", options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
    this.writeTimeoutMs = positive("writeTimeoutMs", options.writeTimeoutMs, DEFAULT_WRITE_TIMEOUT_MS);
    this.maxQueueBytes = positive("maxQueueBytes", options.maxQueueBytes, DEFAULT_MAX_QUEUE_BYTES, MAX_FRAME_BYTES + HEADER_BYTES);
    this.unreported = options.initialDropCount ?? 0;
    if (!Number.isSafeInteger(this.unreported) || this.unreported < 0) throw new EmitValidationError("initialDropCount", "must be an integer >= 0");
    const socketPath = options.socketPath ?? resolveSocketPath();
    if (!isSocketPath(socketPath)) throw new EmitValidationError("socketPath", "must be the path of a Unix socket (never a TCP address)");
    this.givenSocket = options.socketPath;
    this.currentSocket = socketPath;
    this.base = {
      session_id: this.sessionId, channel: this.channel,
      issuer_name: options.issuer?.name, issuer_model: options.issuer?.model,
      operator_id: options.operator?.id, operator_name: options.operator?.name,
    };
    // The options are frame fields too: check them once, with the daemon's rules.
    encodeChecked(candidateFrame(this.base, { tool: { name: "-" }, decision: "allowed" }), callerName);
  }

  /** Events this emitter failed to deliver over its life. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Drops not yet reported to the daemon (cleared only once a frame carrying them is handed over). */
  get unreportedDrops(): number {
    return this.unreported + this.carriedInFlight;
  }

  /**
   * Connections opened so far (a new one after each loss). A confirmed close
   * covers only the frames handed over on the last one.
   */
  get connectionCount(): number {
    return this.opened;
  }

  /** A connection is open or opening (false before the first emit and after a loss). */
  get connected(): boolean {
    return this.conn !== null;
  }

  /** Bytes of frames waiting for the kernel (bounded by maxQueueBytes). */
  get queuedBytes(): number {
    return this.bytesQueued;
  }

  /**
   * Sends one event. Resolves true once the whole frame is handed to the
   * daemon's socket, false when it was dropped (and counted). Rejects at once
   * with EmitValidationError (a TypeError) for caller bugs; in strict mode
   * rejects with EmitTransportError instead of resolving false.
   */
  emit(event: EmitEvent): Promise<boolean> {
    return this.send(() => encodeChecked(eventCandidate(this.base, event), callerName));
  }

  /**
   * Like emit(), and also tells the event's idempotency key (`idempotencyKey`
   * if given, else a fresh UUID v4), so that a caller can retry an event that
   * was not confirmed with the same key and the duplicate is recognisable.
   * In strict mode the EmitTransportError carries the key too.
   */
  async emitWithKey(event: EmitEvent): Promise<EmitResult> {
    let key = "";
    const delivered = await this.send(() => {
      const frame = encodeChecked(eventCandidate(this.base, event), callerName);
      key = frame.idempotencyKey;
      return frame;
    });
    return { delivered, idempotencyKey: key };
  }

  /** Sends raw frame fields (snake_case, as in docs/protocol.md §3); session_id and channel default to the emitter's. */
  emitFrame(fields: FrameFields): Promise<boolean> {
    return this.send(() => {
      if (typeof fields !== "object" || fields === null) throw new EmitValidationError("(frame)", "must be an object");
      return encodeChecked(candidateFrame(this.base, fields), (f) => f);
    });
  }

  private send(encode: () => EncodedFrame): Promise<boolean> {
    let frame: EncodedFrame;
    try {
      if (this.closed !== null) throw new EmitValidationError("emitter", "is closed: emit() was called after close()");
      frame = encode();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<boolean>((resolve, reject) => {
      const entry: Entry = { frame, size: frame.bytes.length, carried: 0, written: false, deadline: 0, done: false, resolve, reject };
      if (this.bytesQueued + entry.size > this.maxQueueBytes) {
        this.drop(entry, "queue_full", `the daemon at ${this.socketPath} is not keeping up: ${this.bytesQueued} bytes already wait`);
        return;
      }
      this.queue.push(entry);
      this.bytesQueued += entry.size;
      const conn = this.connection();
      if (conn.ready) this.write(conn, entry);
    });
  }

  /** The socket the current (or next) connection goes to. */
  get socketPath(): string {
    return this.currentSocket;
  }

  /** The current connection, opening one if there is none (lazily, on first use and after a loss). */
  private connection(): Transport {
    if (this.conn !== null) return this.conn;
    // A long-lived emitter follows the resolver (a system daemon's /run/agentreceipts may appear later).
    if (this.givenSocket === undefined) {
      const resolved = resolveSocketPath();
      if (isSocketPath(resolved)) this.currentSocket = resolved;
    }
    const conn = this.transport(this.socketPath, this.connectTimeoutMs, {
      connected: () => {
        for (const entry of this.queue) if (!entry.written) this.write(conn, entry);
      },
      lost: (kind, message, code) => this.lost(conn, kind, message, code),
    });
    this.conn = conn;
    this.opened++;
    return conn;
  }

  private write(conn: Transport, entry: Entry): void {
    let bytes = entry.frame.bytes;
    if (this.unreported > 0) {
      const counted = withDropCount(entry.frame, this.unreported);
      if (counted !== null) {
        bytes = counted;
        entry.carried = this.unreported;
        this.carriedInFlight += this.unreported;
        this.unreported = 0;
        this.bytesQueued += counted.length - entry.size;
        entry.size = counted.length;
      }
    }
    entry.written = true;
    entry.deadline = performance.now() + this.writeTimeoutMs;
    conn.write(bytes, (err) => {
      // Late callbacks after a loss are ignored: the entry was already counted as dropped.
      if (entry.done) return;
      if (err) conn.fail("connection_closed", `writing to ${this.socketPath} failed: ${err.message}`, err.code);
      else this.delivered(entry);
    });
    // Referenced only while writes are pending: an idle emitter never holds the host process open.
    if (this.watchdog === null) this.watchdog = setTimeout(this.checkStall, this.writeTimeoutMs);
    else this.watchdog.ref();
  }

  private delivered(entry: Entry): void {
    entry.done = true;
    // Writes complete in order, so this is the head of the queue.
    const index = this.queue[0] === entry ? 0 : this.queue.indexOf(entry);
    this.queue.splice(index, 1);
    this.bytesQueued -= entry.size;
    this.carriedInFlight -= entry.carried;
    entry.resolve(true);
    if (this.queue.length === 0) this.notifyDrained();
  }

  /** One timer for all writes: the oldest unflushed write decides (deadlines are in write order). */
  private readonly checkStall = (): void => {
    this.watchdog = null;
    const head = this.queue[0];
    if (head === undefined || !head.written || this.conn === null) return;
    const left = head.deadline - performance.now();
    // A frame may be partly in the kernel: dropping the connection is the only way not to cut or interleave it.
    if (left <= 1) this.conn.fail("write_timeout", `the daemon at ${this.socketPath} did not take the frame within ${this.writeTimeoutMs} ms`);
    else this.watchdog = setTimeout(this.checkStall, left);
  };

  /** The connection is gone: every frame not yet handed over is dropped and counted. */
  private lost(conn: Transport, kind: TransportFailure, message: string, code?: string): void {
    // Queued entries always belong to the current connection; an older one has nothing left here.
    if (this.conn !== conn) return;
    this.conn = null;
    for (const entry of this.queue.splice(0)) this.drop(entry, kind, message, code);
    this.bytesQueued = 0;
    this.notifyDrained();
  }

  private drop(entry: Entry, kind: TransportFailure, message: string, code?: string): void {
    entry.done = true;
    this.carriedInFlight -= entry.carried;
    this.unreported += entry.carried + 1;
    this.droppedTotal++;
    if (this.strict) entry.reject(new EmitTransportError(kind, this.socketPath, message, code, entry.frame.idempotencyKey));
    else entry.resolve(false);
  }

  private notifyDrained(): void {
    this.watchdog?.unref();
    for (const wake of this.drainWaiters.splice(0)) wake();
  }

  /**
   * Stops the emitter once pending events have settled. With `confirm`,
   * half-closes and waits (bounded) for the daemon to close the connection:
   * resolves true when it did, i.e. every frame handed over is committed, or
   * when no connection was open. Without `confirm`, resolves true.
   */
  close(options: CloseOptions = {}): Promise<boolean> {
    let timeoutMs: number;
    try {
      timeoutMs = positive("timeoutMs", options.timeoutMs, DEFAULT_CONFIRM_TIMEOUT_MS);
    } catch (err) {
      return Promise.reject(err);
    }
    this.closed ??= this.shutdown(options.confirm === true, timeoutMs);
    return this.closed;
  }

  private async shutdown(confirm: boolean, timeoutMs: number): Promise<boolean> {
    if (this.queue.length > 0) await new Promise<void>((wake) => this.drainWaiters.push(wake));
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = null;
    const conn = this.conn;
    this.conn = null;
    if (conn === null) return true;
    if (!confirm) {
      conn.destroy();
      return true;
    }
    return conn.endAndAwaitClose(timeoutMs);
  }
}
