import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { EXIT_FAILURE, EXIT_USAGE, UserError } from "../cli/errors.ts";
import { EmitValidationError } from "../emitter/errors.ts";
import { delivered, Delivery, undeliveredMessage } from "../emit-cli/delivery.ts";
import { fieldsFromFlags, flagOf, timeoutFlag } from "../emit-cli/input.ts";
import { sendLines } from "../emit-cli/stdin.ts";

const EVENT_FLAGS = ["tool", "server", "decision", "input", "output", "error", "action-type", "correlation-id"] as const;
const DEFAULT_CONFIRM_MS = 2000;

function usageOf(err: unknown): unknown {
  return err instanceof EmitValidationError ? new UserError(`${flagOf(err.field)} ${err.rule}`, EXIT_USAGE) : err;
}

export const emitCommand = cliCommand(defineCommand({
  meta: {
    name: "emit",
    description:
      "Send one event (from flags) or many (JSON Lines on stdin) to the daemon over one connection, then wait for the daemon " +
      "to confirm it committed them. Exit 0 delivered, 1 not delivered (0 with --best-effort), 2 usage error.",
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
    channel: { type: "string", description: "Emitting channel (default: cli)", valueHint: "NAME" },
    session: { type: "string", description: "Session id (default: a fresh UUID)", valueHint: "ID" },
    socket: { type: "string", description: "Daemon socket (default: $AGENTRECEIPTS_SOCKET or the platform default)", valueHint: "PATH" },
    stdin: { type: "boolean", description: "Read events as JSON Lines of frame fields (tool, decision, input, ...) from stdin" },
    "best-effort": { type: "boolean", description: "Exit 0 with a warning when the daemon is not reachable" },
    "timeout-ms": { type: "string", description: `How long to wait for the daemon's confirmation (default: ${DEFAULT_CONFIRM_MS})`, valueHint: "MS" },
  },
  async run({ args }) {
    const timeoutMs = timeoutFlag(args["timeout-ms"], DEFAULT_CONFIRM_MS);
    if (args.stdin && EVENT_FLAGS.some((f) => args[f] !== undefined)) {
      throw new UserError(`--stdin reads the events from stdin; do not combine it with ${EVENT_FLAGS.map((f) => `--${f}`).join(", ")}`);
    }
    // Usage errors surface before any connection is made.
    const single = args.stdin ? undefined : fieldsFromFlags({
      tool: args.tool, server: args.server, decision: args.decision, input: args.input, output: args.output, error: args.error,
      actionType: args["action-type"], correlationId: args["correlation-id"],
    });
    let delivery: Delivery;
    try {
      delivery = new Delivery({ channel: args.channel ?? "cli", socketPath: args.socket, sessionId: args.session });
    } catch (err) {
      throw usageOf(err);
    }
    let usageError: unknown;
    try {
      if (single !== undefined) await delivery.send((em) => em.emitFrame(single));
      else await sendLines(delivery, process.stdin);
    } catch (err) {
      usageError = usageOf(err);
    }
    // Events already sent are still confirmed before a usage error is reported.
    const report = await delivery.finish(timeoutMs);
    if (usageError !== undefined) throw usageError;
    if (delivered(report)) return;
    const message = undeliveredMessage(report, delivery.emitter.socketPath, timeoutMs);
    if (!args["best-effort"]) throw new UserError(message, EXIT_FAILURE);
    process.stderr.write(`agent-receipts: warning: ${message}\n`);
  },
}));
