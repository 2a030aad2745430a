// The one-line explanation of a delivery that did not end with every event
// confirmed. It tells "not delivered" (nothing reached the daemon: a retry
// cannot duplicate) and "not confirmed" (the daemon took the event and may
// still record it: a retry must reuse the idempotency key) apart, and says
// "no daemon" only when nothing listens.
import type { EmitTransportError } from "../emitter/errors.ts";
import type { DeliveryReport, EventStatus } from "./delivery.ts";

export interface MessageContext {
  socketPath: string;
  confirmTimeoutMs: number;
  /** The stdin line of each event, in send order (`emit --stdin`), to name them. */
  lines?: number[];
  /** How to retry an unconfirmed event without an unrecognisable duplicate. */
  retryHint?: string;
}

function startHint(socketPath: string): string {
  return `Is the daemon running? Start it with "agent-receipts daemon" (it must listen on ${socketPath}; set AGENTRECEIPTS_SOCKET or --socket if it listens elsewhere).`;
}

/** Connected, then closed by the daemon before taking everything: most often a refused user. */
const CLOSED_HINT = "It may not accept this user: its log then shows connection_refused (see allow_uids/allow_groups), or it was stopping.";
const CLOSED_UNCONFIRMED_HINT =
  "It may not accept this user: its log then shows connection_refused (see allow_uids/allow_groups), or it was stopping (then it may still be recorded).";
const BUSY_HINT = "The daemon is running but stalled or overloaded: see its log.";
const ACCESS_HINT = "This user may not open the socket: it must be in the socket's group (socket_group), and log in again after being added.";

function hintFor(failure: EmitTransportError | null, socketPath: string): string {
  if (failure === null) return startHint(socketPath);
  if (failure.kind === "connection_closed" || failure.code === "ECONNRESET" || failure.code === "EPIPE") return CLOSED_HINT;
  if (failure.code === "EAGAIN" || failure.kind !== "connect_failed") return BUSY_HINT;
  if (failure.code === "EACCES") return ACCESS_HINT;
  return startHint(socketPath);
}

/** "1-3, 5" */
function ranges(numbers: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; i++) {
    const start = numbers[i]!;
    while (i + 1 < numbers.length && numbers[i + 1] === numbers[i]! + 1) i++;
    parts.push(start === numbers[i] ? `${start}` : `${start}-${numbers[i]}`);
  }
  return parts.join(", ");
}

/** Names the events with a status: "the event", "2 of 5 events", "lines 2-3". */
function which(statuses: EventStatus[], status: EventStatus, lines: number[] | undefined): { text: string; count: number } {
  const picked = statuses.flatMap((s, i) => (s === status ? [i] : []));
  const count = picked.length;
  if (lines !== undefined) return { text: `${count === 1 ? "line" : "lines"} ${ranges(picked.map((i) => lines[i]!))}`, count };
  if (statuses.length === 1) return { text: "the event", count };
  return { text: `${count} of ${statuses.length} events`, count };
}

export function undeliveredMessage(report: DeliveryReport, ctx: MessageContext): string {
  const parts: string[] = [];
  const lost = which(report.statuses, "not_delivered", ctx.lines);
  const unsure = which(report.statuses, "unconfirmed", ctx.lines);
  if (lost.count > 0) {
    const why = report.lastFailure?.message ?? "unknown transport failure";
    const subject = report.statuses.length === 1 ? "" : `${lost.text} `;
    parts.push(`${subject}not delivered: ${why}. ${hintFor(report.lastFailure, ctx.socketPath)}`);
  }
  if (unsure.count > 0) {
    const status = `(${unsure.count === 1 ? "it" : "they"} may still be recorded)`;
    if (lost.count > 0) {
      parts.push(`${unsure.text} reached the daemon but ${unsure.count === 1 ? "was" : "were"} not confirmed ${status}.`);
    } else if (report.confirmed || report.closedEarly) {
      // The daemon closed the connection on its own, before our half-close could be confirmed.
      parts.push(`the daemon at ${ctx.socketPath} closed the connection without confirming that it committed ${unsure.text}. ${CLOSED_UNCONFIRMED_HINT}`);
    } else {
      parts.push(`${unsure.text} reached the daemon at ${ctx.socketPath} but ${unsure.count === 1 ? "was" : "were"} not confirmed within ${ctx.confirmTimeoutMs} ms ${status}. ${BUSY_HINT}`);
    }
    if (ctx.retryHint !== undefined) parts.push(ctx.retryHint);
  }
  return parts.join(" ");
}
