// Turns `agent-receipts emit` input (flags, or JSON Lines on stdin) into frame
// fields. Problems are usage errors that name the flag or the line.
import { EXIT_USAGE, UserFacingError } from "../errors.ts";
import { EmitValidationError } from "../emitter/errors.ts";
import { candidateFrame, encodeChecked, type FrameBase, type FrameFields } from "../emitter/frame.ts";

export interface EmitFlags {
  tool?: string;
  server?: string;
  decision?: string;
  input?: string;
  output?: string;
  error?: string;
  actionType?: string;
  correlationId?: string;
  idempotencyKey?: string;
}

/** Frame fields with the idempotency key the event is sent (and reported) with. */
export type KeyedFields = FrameFields & { idempotency_key: string };

/** Frame field -> the flag that sets it, for error messages. */
const FLAG_OF: Record<string, string> = {
  "tool.name": "--tool", "tool.server": "--server", tool: "--tool", decision: "--decision", input: "--input", output: "--output",
  error: "--error", action_type: "--action-type", correlation_id: "--correlation-id", session_id: "--session", channel: "--channel",
  idempotency_key: "--idempotency-key",
};

export function flagOf(frameField: string): string {
  return FLAG_OF[frameField] ?? frameField;
}

/** `--timeout-ms`: how long a short-lived emitter waits for the daemon's confirmation. */
export function timeoutFlag(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms < 1) throw new UserFacingError("--timeout-ms must be a number of milliseconds >= 1", EXIT_USAGE);
  return ms;
}

function parseJson(flag: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserFacingError(`${flag} is not valid JSON: ${(err as Error).message}`, EXIT_USAGE);
  }
}

/** The one event described by flags. Value checks are left to the shared frame validator. */
export function fieldsFromFlags(flags: EmitFlags): FrameFields {
  if (flags.tool === undefined || flags.tool === "") throw new UserFacingError("--tool is required (or give events as JSON Lines with --stdin)", EXIT_USAGE);
  return {
    tool: flags.server === undefined ? { name: flags.tool } : { name: flags.tool, server: flags.server },
    decision: (flags.decision ?? "allowed") as FrameFields["decision"],
    input: parseJson("--input", flags.input),
    output: parseJson("--output", flags.output),
    error: flags.error,
    action_type: flags.actionType,
    correlation_id: flags.correlationId,
    idempotency_key: flags.idempotencyKey,
  };
}

/**
 * Gives the event its idempotency key (a fresh UUID v4 unless it has one) and
 * checks it with the emitter's own rules, so that a bad event is a usage error
 * before anything is sent. `problem` turns a rule violation into that error.
 */
export function prepareEvent(base: FrameBase, fields: FrameFields, problem: (err: EmitValidationError) => UserFacingError): KeyedFields {
  const keyed = { ...fields, idempotency_key: fields.idempotency_key ?? globalThis.crypto.randomUUID() };
  try {
    encodeChecked(candidateFrame(base, keyed), (f) => f);
  } catch (err) {
    if (err instanceof EmitValidationError) throw problem(err);
    throw err;
  }
  return keyed;
}

/** One JSON Lines event: frame fields; `v` and `ts_emit` are the emitter's and ignored if present. */
export function fieldsFromLine(line: string, lineNo: number): FrameFields {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new UserFacingError(`stdin line ${lineNo} is not valid JSON: ${(err as Error).message}; nothing was sent`, EXIT_USAGE);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UserFacingError(`stdin line ${lineNo} must be a JSON object of frame fields (tool, decision, input, ...); nothing was sent`, EXIT_USAGE);
  }
  const { v: _v, ts_emit: _ts, ...fields } = value as Record<string, unknown>;
  return fields as unknown as FrameFields;
}
