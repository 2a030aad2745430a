// Maps one Claude Code hook payload (stdin of a PreToolUse / PostToolUse hook)
// to one emitter event. Pure: no I/O.
import type { EmitEvent } from "../emitter/event.ts";
import { TARGET_RESOURCE_MAX_BYTES } from "../protocol/frame-schema.ts";

export const CLAUDE_CODE_CHANNEL = "claude-code";

/** The hook events that describe a tool call, each recorded as one event. */
export const TOOL_HOOK_EVENTS = ["PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionDenied"] as const;
type ToolHookEvent = (typeof TOOL_HOOK_EVENTS)[number];

function isToolHookEvent(name: unknown): name is ToolHookEvent {
  return (TOOL_HOOK_EVENTS as readonly unknown[]).includes(name);
}

/** The payload is not a Claude Code tool hook payload (not JSON object, no session or tool name). */
export class HookPayloadError extends Error {}

export interface HookEvent {
  sessionId: string;
  event: EmitEvent;
}

/** Built-in file tools and the input key holding the path they act on. */
const FILE_PATH_KEYS: Readonly<Record<string, string>> = {
  Read: "file_path", Write: "file_path", Edit: "file_path", MultiEdit: "file_path",
  NotebookEdit: "notebook_path", NotebookRead: "notebook_path",
  Glob: "path", Grep: "path", LS: "path",
};

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function nonEmpty(v: unknown): v is string {
  return typeof v === "string" && v !== "";
}

/** `mcp__<server>__<tool>` -> { server, name }; other names unchanged. */
export function splitToolName(toolName: string): EmitEvent["tool"] {
  const m = /^mcp__(.+?)__(.+)$/.exec(toolName);
  return m === null ? { name: toolName } : { name: m[2]!, server: m[1]! };
}

function fileTarget(toolName: string, input: unknown): EmitEvent["target"] {
  const key = FILE_PATH_KEYS[toolName];
  if (key === undefined || !isObject(input)) return undefined;
  const path = input[key];
  // An over-long path would make the frame invalid: keep the event, leave out the target.
  if (!nonEmpty(path) || Buffer.byteLength(path, "utf8") > TARGET_RESOURCE_MAX_BYTES) return undefined;
  return { system: "filesystem", resource: path };
}

/** The error a PostToolUse response reports, if it is an error response (`is_error`/`isError`, or an `error` message). */
export function responseError(response: unknown): string | undefined {
  if (!isObject(response)) return undefined;
  if (nonEmpty(response.error)) return response.error;
  if (response.is_error !== true && response.isError !== true) return undefined;
  const texts = Array.isArray(response.content)
    ? response.content.flatMap((c) => (isObject(c) && nonEmpty(c.text) ? [c.text] : []))
    : [];
  return texts.length > 0 ? texts.join("\n") : "the tool reported an error";
}

const DECISION_OF: Readonly<Record<ToolHookEvent, EmitEvent["decision"]>> = {
  PreToolUse: "pending", PostToolUse: "allowed", PostToolUseFailure: "allowed", PermissionDenied: "denied",
};

/**
 * The event for a tool hook, or null for other hook events (nothing to record).
 * PreToolUse -> pending with the input; PostToolUse -> allowed with input and
 * output (and the error of an error response); PostToolUseFailure -> allowed
 * with the error; PermissionDenied -> denied, the reason as the error.
 */
export function mapClaudeCodeHook(payload: unknown): HookEvent | null {
  if (!isObject(payload)) throw new HookPayloadError("the hook payload must be a JSON object");
  const kind = payload.hook_event_name;
  if (!isToolHookEvent(kind)) return null;
  if (!nonEmpty(payload.session_id)) throw new HookPayloadError(`${kind} payload has no session_id`);
  if (!nonEmpty(payload.tool_name)) throw new HookPayloadError(`${kind} payload has no tool_name`);
  const event: EmitEvent = { tool: splitToolName(payload.tool_name), decision: DECISION_OF[kind] };
  if (payload.tool_input !== undefined) event.input = payload.tool_input;
  if (kind === "PostToolUse") {
    if (payload.tool_response !== undefined) event.output = payload.tool_response;
    const error = responseError(payload.tool_response);
    if (error !== undefined) event.error = error;
  } else if (kind === "PostToolUseFailure") {
    event.error = nonEmpty(payload.error) ? payload.error : "the tool call failed";
  } else if (kind === "PermissionDenied") {
    event.error = nonEmpty(payload.reason) ? payload.reason : "permission denied";
  }
  if (typeof payload.tool_use_id === "string") event.correlationId = payload.tool_use_id;
  if (typeof payload.agent_id === "string") event.agentId = payload.agent_id;
  if (typeof payload.agent_type === "string") event.agentType = payload.agent_type;
  const target = fileTarget(payload.tool_name, payload.tool_input);
  if (target !== undefined) event.target = target;
  return { sessionId: payload.session_id, event };
}

/**
 * What an unusable invocation (a bad flag, a payload the hook cannot map)
 * still tells: whether it may have been a tool call that is now lost (true
 * unless the payload names another hook event), and its session, if any.
 */
export function lostEventOf(stdinText: string): { lost: boolean; sessionId: string | undefined } {
  let payload: unknown;
  try {
    payload = JSON.parse(stdinText);
  } catch {
    return { lost: true, sessionId: undefined };
  }
  if (!isObject(payload)) return { lost: true, sessionId: undefined };
  const kind = payload.hook_event_name;
  const lost = typeof kind !== "string" || isToolHookEvent(kind);
  return { lost, sessionId: nonEmpty(payload.session_id) ? payload.session_id : undefined };
}
