// One call record -> the frame fields the emitter sends (docs/protocol.md §3.1).
// Only fields of the frame schema: tool, decision, input, output, error,
// action_type, idempotency_key, correlation_id; channel and session_id come
// from the emitter.
import type { FrameFields } from "../emitter/frame.ts";
import { framePayloads } from "./payload.ts";
import type { CallEvent } from "./tracker.ts";

export const MCP_CHANNEL = "mcp";

export interface FrameContext {
  /** `--name`, else the server's `serverInfo.name` once known. */
  server: string | undefined;
  /** From the policy's [[action_type]] table, when one matches. */
  actionType: string | undefined;
}

export function frameOf(event: CallEvent, context: FrameContext): FrameFields {
  const { call } = event;
  const fields: FrameFields = {
    tool: context.server === undefined ? { name: call.tool } : { name: call.tool, server: context.server },
    decision: event.decision,
    // One key for all frames of a call: the verifier tells a call's stages apart (pending,
    // interim, final) and reports only a stage recorded twice as a retry.
    idempotency_key: call.key,
    correlation_id: call.correlationId,
    ...framePayloads(call.input, event.output),
  };
  if (event.error !== undefined) fields.error = event.error;
  if (context.actionType !== undefined) fields.action_type = context.actionType;
  return fields;
}
