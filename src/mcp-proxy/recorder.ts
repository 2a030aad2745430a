// Sends call records to the daemon through the emitter library: a bounded
// queue, bounded waits, and an honest drop count that goes out as
// `drop_count` on the next frame delivered. Nothing here ever waits on the
// relay's path: emits are fire-and-forget, and failures only warn (once per
// outage) on stderr. Drops still unreported at exit (the daemon never came
// back) are kept in a counter file that the next proxy run reports.
import { DropFile } from "../emit-cli/drop-file.ts";
import { Emitter } from "../emitter/emitter.ts";
import { EmitTransportError, EmitValidationError } from "../emitter/errors.ts";
import type { FrameFields } from "../emitter/frame.ts";
import { frameOf, MCP_CHANNEL, type FrameContext } from "./frames.ts";
import { OMITTED_TOO_LARGE, OMITTED_UNENCODABLE, standIn } from "./payload.ts";
import type { CallEvent } from "./tracker.ts";

const CONNECT_TIMEOUT_MS = 250;
const WRITE_TIMEOUT_MS = 2000;
/** Half the SDK's default: each queued frame costs a few KiB of heap besides its bytes, and the proxy must stay small. */
const MAX_QUEUE_BYTES = 2 * 1024 * 1024;
/** An outage warning at most this often: a saturated daemon flaps between dropping and taking frames. */
const WARN_EVERY_MS = 30_000;

export interface RecorderOptions {
  socketPath: string | undefined;
  /** The host's session id; undefined: a fresh UUID for this run. */
  sessionId: string | undefined;
  /** Where drops not reported by exit are kept for the next run (and taken from at start). */
  carryOver: DropFile;
  warn(message: string): void;
}

export class Recorder {
  readonly emitter: Emitter;
  private outage = false;
  private warnedOutage = false;
  private lastOutageWarning = Number.NEGATIVE_INFINITY;
  private lost = 0;

  constructor(private readonly options: RecorderOptions) {
    const carried = this.takeCarried();
    try {
      this.emitter = new Emitter({
        channel: MCP_CHANNEL, socketPath: options.socketPath, sessionId: options.sessionId, strict: true,
        // A long-lived emitter that never waits on its emits: a busy daemon gets time before frames are dropped.
        connectTimeoutMs: CONNECT_TIMEOUT_MS, writeTimeoutMs: WRITE_TIMEOUT_MS, maxQueueBytes: MAX_QUEUE_BYTES,
        initialDropCount: carried,
      });
    } catch (err) {
      this.keep(carried);
      throw err;
    }
  }

  /** Drops earlier runs could not report: this run's first delivered frame reports them. */
  private takeCarried(): number {
    try {
      return this.options.carryOver.take();
    } catch (err) {
      this.options.warn(`cannot read the drop counter ${this.options.carryOver.path}: ${(err as Error).message}`);
      return 0;
    }
  }

  /** Stores drops for the next run; false when they could not be stored. */
  private keep(count: number): boolean {
    try {
      this.options.carryOver.add(count);
      return true;
    } catch (err) {
      this.options.warn(`cannot store the drop count in ${this.options.carryOver.path}: ${(err as Error).message}`);
      return false;
    }
  }

  get sessionId(): string {
    return this.emitter.sessionId;
  }

  record(event: CallEvent, context: FrameContext): void {
    this.send(frameOf(event, context), event, 0);
  }

  private send(fields: FrameFields, event: CallEvent, attempt: number): void {
    this.emitter.emitFrame(fields).then(
      () => {
        if (this.outage) {
          this.outage = false;
          if (this.warnedOutage) this.options.warn(`recording again; ${this.emitter.dropped} frame(s) of this session were dropped so far, and the daemon is told how many`);
          this.warnedOutage = false;
        }
      },
      (err: unknown) => {
        if (err instanceof EmitValidationError && (err.field === "input" || err.field === "output") && attempt < 2) {
          // A payload without an RFC 8785 form, or one that made the frame too large: send its stand-in instead.
          const why = err.rule.startsWith("makes the frame") ? OMITTED_TOO_LARGE : OMITTED_UNENCODABLE;
          const line = err.field === "input" ? event.call.input?.line : event.output?.line;
          if (line !== undefined) return this.send({ ...fields, [err.field]: standIn(line, why) }, event, attempt + 1);
        }
        if (err instanceof EmitTransportError) {
          if (!this.outage) {
            this.outage = true;
            const now = performance.now();
            if (now - this.lastOutageWarning >= WARN_EVERY_MS) {
              this.lastOutageWarning = now;
              this.warnedOutage = true;
              this.options.warn(`tool calls are not being recorded: ${err.message}. The relay goes on; dropped frames are counted and reported to the daemon once it is back`);
            }
          }
          return;
        }
        this.lost++;
        this.options.warn(`a frame of call ${event.call.callId} (${event.call.tool}) could not be recorded: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  /** Waits (bounded) until the daemon confirms it committed every frame; warns about what was not recorded. */
  async close(timeoutMs: number): Promise<boolean> {
    const confirmed = await this.emitter.close({ confirm: true, timeoutMs });
    const unreported = this.emitter.unreportedDrops;
    const missing = unreported + this.lost;
    if (unreported > 0 && this.keep(unreported)) {
      this.options.warn(`${missing} frame(s) of session ${this.sessionId} were not recorded (the daemon was not reachable); the next mcp-proxy run that reaches the daemon reports the ${unreported} dropped (kept in ${this.options.carryOver.path})`);
    } else if (missing > 0) this.options.warn(`${missing} frame(s) of session ${this.sessionId} were not recorded (the daemon was not reachable)`);
    else if (!confirmed) this.options.warn(`the daemon did not confirm within ${timeoutMs} ms that it committed the last frames of session ${this.sessionId}`);
    return confirmed && missing === 0;
  }
}

export type { FrameContext };
