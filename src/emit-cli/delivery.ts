// Short-lived emitters (the `emit` command, hooks): send over one connection,
// then half-close and wait, bounded, for the daemon to close it. Only that
// close proves the daemon committed the frames, and waiting for it keeps the
// process alive while the daemon attests its executable.
import { EmitterCore, type EmitterOptions } from "../emitter/emitter-core.ts";
import { bunTransport } from "./bun-transport.ts";
import { EmitTransportError } from "../emitter/errors.ts";

/**
 * What became of one event: `recorded` (the daemon confirmed the commit),
 * `unconfirmed` (handed to the daemon, commit not confirmed: it may still be
 * recorded, so a retry must reuse its idempotency key), `not_delivered` (never
 * handed over: a retry cannot duplicate it).
 */
export type EventStatus = "recorded" | "unconfirmed" | "not_delivered";

export interface DeliveryReport {
  /** Events handed to the daemon's socket. */
  handed: number;
  /** Events not handed over (counted as dropped). */
  failed: number;
  /** The daemon closed the connection after our half-close: everything handed over on it is committed. */
  confirmed: boolean;
  /** Not confirmed, and not for lack of time: the connection was already closed, e.g. by a daemon that refused this user. */
  closedEarly: boolean;
  /** Why the last failed event was not delivered. */
  lastFailure: EmitTransportError | null;
  /** Drops that no delivered frame has reported yet. */
  unreportedDrops: number;
  /** Each event's fate, in the order sent. */
  statuses: EventStatus[];
}

export class Delivery {
  readonly emitter: EmitterCore;
  /** Per event, in send order: the connection it was handed over on (Emitter.connectionCount), or 0 when it was not. */
  private readonly handedOn: number[] = [];
  private lastFailure: EmitTransportError | null = null;

  constructor(options: Omit<EmitterOptions, "strict">) {
    // Strict internally, so a failure carries its reason (ENOENT, timeout, ...) for the message.
    this.emitter = new EmitterCore({ ...options, strict: true }, bunTransport);
  }

  /** Runs one emit; resolves whether it was handed over. Caller bugs (EmitValidationError) propagate. */
  async send(emit: (emitter: EmitterCore) => Promise<boolean>): Promise<boolean> {
    try {
      await emit(this.emitter);
      this.handedOn.push(this.emitter.connectionCount);
      return true;
    } catch (err) {
      if (!(err instanceof EmitTransportError)) throw err;
      this.lastFailure = err;
      this.handedOn.push(0);
      return false;
    }
  }

  async finish(confirmTimeoutMs: number): Promise<DeliveryReport> {
    // A connection the daemon closed on its own (e.g. refusing this user) confirms nothing.
    const last = this.emitter.connected ? this.emitter.connectionCount : -1;
    const started = performance.now();
    const confirmed = await this.emitter.close({ confirm: true, timeoutMs: confirmTimeoutMs });
    const closedEarly = !confirmed && performance.now() - started < confirmTimeoutMs * 0.9;
    // The confirmation covers the last connection only: an event handed over on an earlier one, lost since, is unconfirmed.
    const statuses = this.handedOn.map((conn): EventStatus => {
      if (conn === 0) return "not_delivered";
      return confirmed && conn === last ? "recorded" : "unconfirmed";
    });
    const handed = statuses.filter((s) => s !== "not_delivered").length;
    return {
      handed, failed: statuses.length - handed, confirmed, closedEarly, lastFailure: this.lastFailure,
      unreportedDrops: this.emitter.unreportedDrops, statuses,
    };
  }
}

export function delivered(report: DeliveryReport): boolean {
  return report.statuses.every((s) => s === "recorded");
}
