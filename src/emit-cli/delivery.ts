// Short-lived emitters (the `emit` command, hooks): send over one connection,
// then half-close and wait, bounded, for the daemon to close it. Only that
// close proves the daemon committed the frames, and waiting for it keeps the
// process alive while the daemon attests its executable.
import { Emitter, type EmitterOptions } from "../emitter/emitter.ts";
import { EmitTransportError } from "../emitter/errors.ts";

export interface DeliveryReport {
  /** Events handed to the daemon's socket. */
  handed: number;
  /** Events not handed over (counted as dropped). */
  failed: number;
  /** The daemon closed the connection after our half-close: everything handed over is committed. */
  confirmed: boolean;
  /** Not confirmed, and not for lack of time: the connection was already closed, e.g. by a daemon that refused this user. */
  closedEarly: boolean;
  /** Why the last failed event was not delivered. */
  lastFailure: EmitTransportError | null;
  /** Drops that no delivered frame has reported yet. */
  unreportedDrops: number;
}

export class Delivery {
  readonly emitter: Emitter;
  private handed = 0;
  private failed = 0;
  private lastFailure: EmitTransportError | null = null;

  constructor(options: Omit<EmitterOptions, "strict">) {
    // Strict internally, so a failure carries its reason (ENOENT, timeout, ...) for the message.
    this.emitter = new Emitter({ ...options, strict: true });
  }

  /** Runs one emit; resolves whether it was handed over. Caller bugs (EmitValidationError) propagate. */
  async send(emit: (emitter: Emitter) => Promise<boolean>): Promise<boolean> {
    try {
      await emit(this.emitter);
      this.handed++;
      return true;
    } catch (err) {
      if (!(err instanceof EmitTransportError)) throw err;
      this.failed++;
      this.lastFailure = err;
      return false;
    }
  }

  async finish(confirmTimeoutMs: number): Promise<DeliveryReport> {
    const started = performance.now();
    const confirmed = await this.emitter.close({ confirm: true, timeoutMs: confirmTimeoutMs });
    const closedEarly = !confirmed && performance.now() - started < confirmTimeoutMs * 0.9;
    return { handed: this.handed, failed: this.failed, confirmed, closedEarly, lastFailure: this.lastFailure, unreportedDrops: this.emitter.unreportedDrops };
  }
}

export function delivered(report: DeliveryReport): boolean {
  return report.failed === 0 && report.confirmed;
}

/** Why the events did not (provably) reach the daemon, naming the socket and how to start the daemon. */
export function undeliveredMessage(report: DeliveryReport, socketPath: string, confirmTimeoutMs: number): string {
  const start = `Is the daemon running? Start it with "agent-receipts daemon" (it must listen on ${socketPath}; set AGENTRECEIPTS_SOCKET or --socket if it listens elsewhere).`;
  // Connected, then closed by the daemon before taking everything: most often a refused user.
  const closedHint = "It may not accept this user: its log then shows connection_refused (see allow_uids/allow_groups), or it was stopping.";
  if (report.failed > 0) {
    const what = report.handed === 0 ? "not delivered" : `${report.failed} of ${report.handed + report.failed} events not delivered`;
    const f = report.lastFailure;
    const closed = f?.kind === "connection_closed" || f?.code === "ECONNRESET" || f?.code === "EPIPE";
    const hint = closed ? closedHint : start;
    return `${what}: ${report.lastFailure?.message ?? "unknown transport failure"}. ${hint}`;
  }
  const events = `the event${report.handed === 1 ? "" : "s"}`;
  if (report.closedEarly) {
    return `the daemon at ${socketPath} closed the connection without confirming that it committed ${events}. ${closedHint}`;
  }
  return `the daemon at ${socketPath} did not confirm within ${confirmTimeoutMs} ms that it committed ${events}. ${start}`;
}
