// The emitter frame, version "1" (docs/protocol.md §3): its type and the one validator
// used by the daemon (payload errors) and by emitters (caller bugs). No deps:
// the Node.js emitter bundle includes this file.
import { findUnencodable, type JsonValue } from "./json.ts";

export const FRAME_VERSION = "1";
export const DECISIONS = ["allowed", "denied", "pending"] as const;
export type Decision = (typeof DECISIONS)[number];

/** Optional identity strings capped at 256 bytes of UTF-8. */
export const SHORT_FIELDS = [
  "issuer_name", "issuer_model", "operator_id", "operator_name", "idempotency_key", "correlation_id",
  "agent_id", "agent_type", "model", "capture_method", "target_system",
] as const;
export type ShortField = (typeof SHORT_FIELDS)[number];
export const SHORT_FIELD_MAX_BYTES = 256;
export const TARGET_RESOURCE_MAX_BYTES = 4096;

export interface FrameTool {
  name: string;
  server?: string;
}

export type Frame = {
  v: "1";
  ts_emit: string;
  session_id: string;
  channel: string;
  tool: FrameTool;
  decision: Decision;
  input?: JsonValue;
  output?: JsonValue;
  error?: string;
  action_type?: string;
  drop_count?: number;
  usage?: JsonValue;
  target_resource?: string;
} & { [K in ShortField]?: string };

export interface FrameProblem {
  field: string;
  rule: string;
}

export type FrameCheck = { ok: true; frame: Frame } | { ok: false; problem: FrameProblem };

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

export function isRfc3339(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const [, y, mo, d, h, mi, se, , , oh, om] = m.map((x) => (x === undefined ? 0 : Number(x)));
  // The day must exist in that month (RFC 3339 §5.7): Feb 30 is not a date.
  const daysInMonth = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  return mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= daysInMonth && h! <= 23 && mi! <= 59 && se! <= 60 && oh! <= 23 && om! <= 59;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

function fail(field: string, rule: string): FrameCheck {
  return { ok: false, problem: { field, rule } };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Validates a parsed frame. Returns the frame with only known keys (unknown
 * keys are ignored, docs/protocol.md §3) or the first problem, naming field and rule.
 */
export function validateFrame(value: unknown): FrameCheck {
  if (!isPlainObject(value)) return fail("(frame)", "must be a JSON object");
  const f = value;
  if (f.v !== FRAME_VERSION) return fail("v", `must be the string "${FRAME_VERSION}"`);
  if (typeof f.ts_emit !== "string" || !isRfc3339(f.ts_emit)) return fail("ts_emit", "must be an RFC 3339 timestamp");
  if (typeof f.session_id !== "string" || f.session_id === "") return fail("session_id", "must be a non-empty string");
  if (typeof f.channel !== "string" || f.channel === "") return fail("channel", "must be a non-empty string");
  if (!isPlainObject(f.tool)) return fail("tool", "must be an object with a non-empty name");
  if (typeof f.tool.name !== "string" || f.tool.name === "") return fail("tool.name", "must be a non-empty string");
  if (f.tool.server !== undefined && typeof f.tool.server !== "string") return fail("tool.server", "must be a string when present");
  if (typeof f.decision !== "string" || !(DECISIONS as readonly string[]).includes(f.decision)) {
    return fail("decision", `must be one of ${DECISIONS.join(", ")}`);
  }
  const frame: Frame = {
    v: FRAME_VERSION,
    ts_emit: f.ts_emit,
    session_id: f.session_id,
    channel: f.channel,
    tool: f.tool.server === undefined ? { name: f.tool.name } : { name: f.tool.name, server: f.tool.server },
    decision: f.decision as Decision,
  };
  for (const key of ["input", "output", "usage"] as const) {
    if (f[key] === undefined) continue;
    const problem = findUnencodable(f[key]);
    if (problem !== undefined) return fail(key, `must be JSON that RFC 8785 can encode (${problem.replace(/^\$/, key)})`);
    frame[key] = f[key] as JsonValue;
  }
  for (const key of ["error", "action_type"] as const) {
    if (f[key] === undefined) continue;
    if (typeof f[key] !== "string") return fail(key, "must be a string when present");
    if (!(f[key] as string).isWellFormed()) return fail(key, "must not contain a lone UTF-16 surrogate");
    frame[key] = f[key] as string;
  }
  if (f.drop_count !== undefined) {
    if (typeof f.drop_count !== "number" || !Number.isSafeInteger(f.drop_count) || f.drop_count < 0) {
      return fail("drop_count", "must be an integer >= 0");
    }
    frame.drop_count = f.drop_count;
  }
  for (const key of SHORT_FIELDS) {
    const v = f[key];
    if (v === undefined) continue;
    if (typeof v !== "string") return fail(key, "must be a string when present");
    if (utf8Length(v) > SHORT_FIELD_MAX_BYTES) return fail(key, `must be at most ${SHORT_FIELD_MAX_BYTES} bytes`);
    if (!v.isWellFormed()) return fail(key, "must not contain a lone UTF-16 surrogate");
    frame[key] = v;
  }
  if (f.target_resource !== undefined) {
    if (typeof f.target_resource !== "string") return fail("target_resource", "must be a string when present");
    if (utf8Length(f.target_resource) > TARGET_RESOURCE_MAX_BYTES) {
      return fail("target_resource", `must be at most ${TARGET_RESOURCE_MAX_BYTES} bytes`);
    }
    frame.target_resource = f.target_resource;
  }
  for (const key of ["session_id", "channel"] as const) {
    if (!frame[key].isWellFormed()) return fail(key, "must not contain a lone UTF-16 surrogate");
  }
  if (!frame.tool.name.isWellFormed() || (frame.tool.server !== undefined && !frame.tool.server.isWellFormed())) {
    return fail("tool", "must not contain a lone UTF-16 surrogate");
  }
  if (frame.operator_name !== undefined && frame.operator_id === undefined) {
    return fail("operator_name", "requires operator_id");
  }
  if ((frame.target_system === undefined) !== (frame.target_resource === undefined)) {
    return fail(frame.target_system === undefined ? "target_system" : "target_resource", "target_system and target_resource must be given together");
  }
  if (frame.agent_id !== undefined && (frame.agent_id === "" || /[/\0]/.test(frame.agent_id))) {
    return fail("agent_id", "must be non-empty and must not contain '/' or NUL");
  }
  return { ok: true, frame };
}
