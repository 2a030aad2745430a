import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { EXIT_FAILURE, EXIT_USAGE, UserFacingError } from "../errors.ts";
import { EmitValidationError } from "../emitter/errors.ts";
import { delivered, Delivery, type DeliveryReport } from "../emit-cli/delivery.ts";
import { fieldsFromFlags, flagOf, prepareEvent, timeoutFlag, type KeyedFields } from "../emit-cli/input.ts";
import { undeliveredMessage } from "../emit-cli/messages.ts";
import { MAX_STDIN_BYTES, readLineEvents } from "../emit-cli/stdin.ts";
import { printError, printLine } from "../cli/output.ts";

const EVENT_FLAGS = ["tool", "server", "decision", "input", "output", "error", "action-type", "correlation-id", "idempotency-key"] as const;
const DEFAULT_CONFIRM_MS = 2000;
/** --best-effort callers want to move on: this long at most for the daemon's confirmation. */
export const BEST_EFFORT_CONFIRM_MS = 200;

function flagProblem(err: EmitValidationError): UserFacingError {
  return new UserFacingError(`${flagOf(err.field)} ${err.rule}`, EXIT_USAGE);
}

interface Sent {
  line?: number;
  fields: KeyedFields;
}

/** --json: one line per event, in input order: its idempotency key and what became of it. */
function printStatuses(events: Sent[], report: DeliveryReport): void {
  const out = events.map((e, i) => JSON.stringify({ ...(e.line === undefined ? {} : { line: e.line }), idempotency_key: e.fields.idempotency_key, status: report.statuses[i] }));
  if (out.length > 0) printLine(out.join("\n"));
}

export const emitCommand = cliCommand(defineCommand({
  meta: {
    name: "emit",
    description:
      "Send one event (from flags) or many (JSON Lines on stdin) to the daemon over one connection, then wait for the daemon " +
      "to confirm it committed them. Exit 0 recorded, 1 not delivered or not confirmed (0 with --best-effort), 2 usage error (nothing sent).",
  },
  args: {
    tool: { type: "string", description: "Tool name (required unless --stdin)", valueHint: "NAME" },
    server: { type: "string", description: "Tool server, e.g. the MCP server", valueHint: "NAME" },
    decision: { type: "string", description: "allowed, denied or pending (default: allowed)", valueHint: "DECISION" },
    input: { type: "string", description: "Tool input as JSON", valueHint: "JSON" },
    output: { type: "string", description: "Tool output as JSON", valueHint: "JSON" },
    error: { type: "string", description: "Error message of a failed call", valueHint: "TEXT" },
    "action-type": { type: "string", description: "action.type of the receipt (default: <channel>.<tool>)", valueHint: "TYPE" },
    "correlation-id": { type: "string", description: "Correlation id, e.g. the tool-use id", valueHint: "ID" },
    "idempotency-key": { type: "string", description: "The event's idempotency key (default: a fresh UUID); reuse it to retry an unconfirmed event", valueHint: "KEY" },
    channel: { type: "string", description: "Emitting channel (default: cli)", valueHint: "NAME" },
    session: { type: "string", description: "Session id (default: a fresh UUID)", valueHint: "ID" },
    socket: { type: "string", description: "Daemon socket (default: $AGENTRECEIPTS_SOCKET or the platform default)", valueHint: "PATH" },
    stdin: {
      type: "boolean",
      description: `Read events as JSON Lines of frame fields (tool, decision, input, ...) from stdin, at most ${MAX_STDIN_BYTES / (1024 * 1024)} MiB; every line is checked before any is sent`,
    },
    json: { type: "boolean", description: "Print one JSON line per event on stdout: idempotency_key, status (recorded, unconfirmed, not_delivered), line" },
    "best-effort": { type: "boolean", description: `Exit 0 with a warning when not recorded; waits at most ${BEST_EFFORT_CONFIRM_MS} ms for the confirmation` },
    "timeout-ms": { type: "string", description: `How long to wait for the daemon's confirmation (default: ${DEFAULT_CONFIRM_MS})`, valueHint: "MS" },
  },
  async run({ args }) {
    const bestEffort = args["best-effort"] === true;
    const timeoutFlagMs = timeoutFlag(args["timeout-ms"], DEFAULT_CONFIRM_MS);
    const timeoutMs = bestEffort ? Math.min(timeoutFlagMs, BEST_EFFORT_CONFIRM_MS) : timeoutFlagMs;
    if (args.stdin && EVENT_FLAGS.some((f) => args[f] !== undefined)) {
      throw new UserFacingError(`--stdin reads the events from stdin; do not combine it with ${EVENT_FLAGS.map((f) => `--${f}`).join(", ")}`);
    }
    let delivery: Delivery;
    try {
      delivery = new Delivery({ channel: args.channel ?? "cli", socketPath: args.socket, sessionId: args.session });
    } catch (err) {
      throw err instanceof EmitValidationError ? flagProblem(err) : err;
    }
    // Every event is checked, and given its idempotency key, before any connection is made.
    const base = { session_id: delivery.emitter.sessionId, channel: delivery.emitter.channel };
    const events: Sent[] = args.stdin
      ? await readLineEvents(process.stdin, base)
      : [{
        fields: prepareEvent(base, fieldsFromFlags({
          tool: args.tool, server: args.server, decision: args.decision, input: args.input, output: args.output, error: args.error,
          actionType: args["action-type"], correlationId: args["correlation-id"], idempotencyKey: args["idempotency-key"],
        }), flagProblem),
      }];
    for (const event of events) await delivery.send((em) => em.emitFrame(event.fields));
    const report = await delivery.finish(timeoutMs);
    if (args.json) printStatuses(events, report);
    if (delivered(report)) return;
    const retryHint = args.stdin
      ? "Retry a line with the same idempotency_key (--json prints each line's key) so that the duplicate is recognisable."
      : `Retry with --idempotency-key ${events[0]!.fields.idempotency_key} so that the duplicate is recognisable.`;
    const message = undeliveredMessage(report, {
      socketPath: delivery.emitter.socketPath, confirmTimeoutMs: timeoutMs, retryHint,
      lines: args.stdin ? events.map((e) => e.line!) : undefined,
    });
    if (!bestEffort) throw new UserFacingError(message, EXIT_FAILURE);
    printError(`agent-receipts: warning: ${message}`);
  },
}));
