// The SDK's camelCase event and its mapping to frame fields (docs/protocol.md §3).
import type { Decision } from "../protocol/frame-schema.ts";
import { EmitValidationError } from "./errors.ts";
import { candidateFrame, type FrameBase } from "./frame.ts";

/** One tool call, as an agent describes it. Payloads are any JSON value. */
export interface EmitEvent {
  tool: { name: string; server?: string };
  decision: Decision;
  input?: unknown;
  output?: unknown;
  error?: string;
  actionType?: string;
  correlationId?: string;
  idempotencyKey?: string;
  agentId?: string;
  agentType?: string;
  model?: string;
  usage?: unknown;
  captureMethod?: string;
  /** What the call acted on, e.g. `{ system: "filesystem", resource: "/etc/hosts" }`. */
  target?: { system: string; resource: string };
}

/** Event key -> frame key for the fields that map one to one. */
const EVENT_KEYS = {
  tool: "tool", decision: "decision", input: "input", output: "output", error: "error", usage: "usage", model: "model",
  actionType: "action_type", correlationId: "correlation_id", idempotencyKey: "idempotency_key",
  agentId: "agent_id", agentType: "agent_type", captureMethod: "capture_method",
} as const satisfies Record<string, string>;

/** Frame key -> the name the SDK caller knows (event fields and constructor options). */
const CALLER_NAMES: Record<string, string> = {
  ...Object.fromEntries(Object.entries(EVENT_KEYS).map(([event, frame]) => [frame, event])),
  target_system: "target.system", target_resource: "target.resource",
  session_id: "sessionId", issuer_name: "issuer.name", issuer_model: "issuer.model",
  operator_id: "operator.id", operator_name: "operator.name", "(frame)": "event",
};

export function callerName(frameField: string): string {
  return CALLER_NAMES[frameField] ?? frameField;
}

/** The unvalidated frame for an event; shape errors the validator cannot name are thrown here. */
export function eventCandidate(base: FrameBase, event: EmitEvent): Record<string, unknown> {
  if (typeof event !== "object" || event === null || Array.isArray(event)) throw new EmitValidationError("event", "must be an object");
  const fields: Record<string, unknown> = {};
  for (const [eventKey, frameKey] of Object.entries(EVENT_KEYS)) fields[frameKey] = (event as unknown as Record<string, unknown>)[eventKey];
  const target: unknown = event.target;
  if (target !== undefined) {
    if (typeof target !== "object" || target === null) throw new EmitValidationError("target", "must be an object { system, resource }");
    fields.target_system = (target as Record<string, unknown>).system;
    fields.target_resource = (target as Record<string, unknown>).resource;
  }
  return candidateFrame(base, fields);
}
