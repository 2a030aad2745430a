// Builds and encodes one emitter frame. Every caller-bug check goes through the
// shared validator (src/protocol/frame-schema.ts), so the emitter rejects
// exactly what the daemon would drop, naming the caller's field.
import { FRAME_VERSION, validateFrame, type Decision, type Frame, type ShortField } from "../protocol/frame-schema.ts";
import { encodeFrame, FrameTooLargeError, MAX_FRAME_BYTES } from "../protocol/framing.ts";
import { EmitValidationError } from "./errors.ts";

/** Frame fields without `v`, `ts_emit` and `drop_count` (the emitter sets those). Payloads are checked at run time. */
export type FrameFields = {
  session_id?: string;
  channel?: string;
  tool: { name: string; server?: string };
  decision: Decision;
  input?: unknown;
  output?: unknown;
  usage?: unknown;
  error?: string;
  action_type?: string;
  target_resource?: string;
} & { [K in ShortField]?: string };

/** What every frame of one emitter shares. */
export type FrameBase = Pick<Frame, "session_id" | "channel" | "issuer_name" | "issuer_model" | "operator_id" | "operator_name">;

export interface EncodedFrame {
  json: string;
  bytes: Buffer;
  /** The frame's idempotency_key (the caller's, else the one candidateFrame drew). */
  idempotencyKey: string;
}

/** Maps a frame field name to the name the caller used for it. */
export type FieldNamer = (frameField: string) => string;

/**
 * A frame object ready for validation: the base, then the caller's defined
 * fields, then version and emit time. An event without an idempotency key
 * gets a fresh UUID v4, so that a retry reusing it is recognisable.
 */
export function candidateFrame(base: FrameBase, fields: object): Record<string, unknown> {
  const frame: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) frame[key] = value;
  delete frame.drop_count; // the emitter's own count, never the caller's
  if (frame.idempotency_key === undefined) frame.idempotency_key = globalThis.crypto.randomUUID();
  frame.v = FRAME_VERSION;
  frame.ts_emit = new Date().toISOString();
  return frame;
}

/** The payload-like field that contributes most to an oversized frame: the one to name. */
function largestField(frame: Frame): string {
  let best = "input";
  let bestSize = -1;
  for (const key of ["input", "output", "usage", "error", "target_resource"] as const) {
    const value = frame[key];
    if (value === undefined) continue;
    const size = JSON.stringify(value).length;
    if (size > bestSize) [best, bestSize] = [key, size];
  }
  return best;
}

/** Validates and encodes; throws EmitValidationError naming the field (as `name` spells it). */
export function encodeChecked(candidate: Record<string, unknown>, name: FieldNamer): EncodedFrame {
  const check = validateFrame(candidate);
  if (!check.ok) throw new EmitValidationError(name(check.problem.field), check.problem.rule);
  const json = JSON.stringify(check.frame);
  try {
    return { json, bytes: encodeFrame(json), idempotencyKey: check.frame.idempotency_key ?? "" };
  } catch (err) {
    if (!(err instanceof FrameTooLargeError)) throw err;
    const size = Buffer.byteLength(json, "utf8");
    throw new EmitValidationError(name(largestField(check.frame)), `makes the frame ${size} bytes, over the ${MAX_FRAME_BYTES}-byte (1 MiB) limit`);
  }
}

/**
 * The frame's bytes with `drop_count` added, or null when that would push it
 * over 1 MiB (the count then waits for the next frame).
 */
export function withDropCount(frame: EncodedFrame, dropCount: number): Buffer | null {
  try {
    return encodeFrame(`{"drop_count":${dropCount},${frame.json.slice(1)}`);
  } catch (err) {
    if (err instanceof FrameTooLargeError) return null;
    throw err;
  }
}
