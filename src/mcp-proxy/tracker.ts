// Follows every tools/call from request to end and says what to record: a
// `pending` record when the request passes, and one final record however it
// ends (result, JSON-RPC error, isError, cancellation, the server dying, the
// proxy shutting down). Requests are keyed by the id's JSON type and value,
// and only responses from the server are matched against the client's
// requests (per direction). Revision 2026-07-28's `input_required` interim
// results are recorded, and the client's retry (a new request id) is linked to
// the call it continues through the same correlation id.
import { createHash } from "node:crypto";
import type { Decision } from "../protocol/frame-schema.ts";
import { SHORT_FIELD_MAX_BYTES } from "../protocol/frame-schema.ts";
import { idKey, isObject, type JsonObject, type RpcId } from "./jsonrpc.ts";
import type { Line } from "./lines.ts";
import type { Payload } from "./payload.ts";

export interface TrackedCall {
  /** The proxy's own handle for the call (approvals, messages): `<proxy tag>-<n>`. */
  readonly callId: string;
  readonly rpcId: RpcId;
  readonly tool: string;
  /** Idempotency key of all the call's frames: the JSON-RPC id scoped to this proxy session (see keyFor). */
  readonly key: string;
  /** `_meta["claudecode/toolUseId"]`, else the key of the call a retry continues, else this call's key. */
  readonly correlationId: string;
  readonly input: Payload | undefined;
}

export interface CallEvent {
  call: TrackedCall;
  decision: Decision;
  output?: Payload;
  error?: string;
}

export interface TrackerOptions {
  sessionId: string;
  /** Prefix of call ids, unique per proxy run. */
  tag: string;
  record(event: CallEvent): void;
}

const TOOL_USE_ID = "claudecode/toolUseId";
/** Retries remembered for linking; the oldest is forgotten beyond this. */
const MAX_AWAITED_RETRIES = 1024;
/** Error texts taken from a result's content are cut here (the frame carries the result itself). */
const MAX_ERROR_TEXT = 4096;

function shortString(v: unknown): v is string {
  return typeof v === "string" && v !== "" && v.isWellFormed() && Buffer.byteLength(v, "utf8") <= SHORT_FIELD_MAX_BYTES;
}

/** Text for a frame: a lone surrogate (which JSON can carry) would make the daemon drop the whole frame. */
function frameText(v: string): string {
  return v.toWellFormed();
}

/** The text of an `isError: true` result: its text content, else a generic line. */
function toolErrorText(result: JsonObject): string {
  const content = result.content;
  const texts = Array.isArray(content) ? content.flatMap((c) => (isObject(c) && typeof c.text === "string" && c.text !== "" ? [c.text] : [])) : [];
  const text = texts.join("\n");
  if (text === "") return "the tool reported an error (isError: true)";
  return frameText(text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}...` : text);
}

function rpcErrorText(error: unknown): string {
  if (!isObject(error)) return "JSON-RPC error";
  const code = typeof error.code === "number" ? ` ${error.code}` : "";
  const message = typeof error.message === "string" && error.message !== "" ? `: ${error.message.slice(0, MAX_ERROR_TEXT)}` : "";
  return frameText(`JSON-RPC error${code}${message}`);
}

export class CallTracker {
  /** Calls waiting for the server's answer, by id key; a list, in case a client reuses an id. */
  private readonly awaiting = new Map<string, TrackedCall[]>();
  private awaitingCount = 0;
  /** initialize / server/discover requests whose result names the server. */
  private readonly discovery = new Set<string>();
  /** Calls answered `input_required`, by requestState and by tool + arguments, for linking the retry. */
  private readonly retries = new Map<string, string>();
  private calls = 0;
  serverName: string | undefined;

  constructor(private readonly options: TrackerOptions) {}

  get openCalls(): number {
    return this.awaitingCount;
  }

  /** A request from the client. Returns the call for a tools/call, else null (initialize is remembered). */
  request(id: RpcId, method: string, params: unknown, line: Line): TrackedCall | null {
    if (method === "initialize" || method === "server/discover") {
      this.discovery.add(idKey(id));
      return null;
    }
    if (method !== "tools/call") return null;
    const p = isObject(params) ? params : {};
    const tool = typeof p.name === "string" && p.name !== "" ? frameText(p.name) : "(unnamed tool)";
    const n = ++this.calls;
    const key = this.keyFor(id, n);
    const meta = isObject(p._meta) ? p._meta : {};
    const linked = this.linkedCorrelation(tool, p);
    const correlationId = shortString(meta[TOOL_USE_ID]) ? meta[TOOL_USE_ID] : linked ?? key;
    return {
      callId: `${this.options.tag}-${n}`,
      rpcId: id, tool, key, correlationId,
      input: p.arguments === undefined ? undefined : { value: p.arguments, line },
    };
  }

  /** Records the `pending` frame (the request passed, or waits for approval). */
  pending(call: TrackedCall): void {
    this.options.record({ call, decision: "pending" });
  }

  /** The request went to the server: its answer will close it. */
  forwarded(call: TrackedCall): void {
    const k = idKey(call.rpcId);
    const list = this.awaiting.get(k);
    if (list === undefined) this.awaiting.set(k, [call]);
    else list.push(call);
    this.awaitingCount++;
  }

  /** The call ended without reaching the server (denied, not approved, cancelled while held). */
  endUnsent(call: TrackedCall, decision: Decision, error: string): void {
    this.options.record({ call, decision, error });
  }

  /** A response from the server. */
  response(id: RpcId | null, result: unknown, error: unknown, isError: boolean, line: Line): void {
    if (id === null) return;
    const k = idKey(id);
    if (this.discovery.delete(k)) {
      const info = isObject(result) ? result.serverInfo : undefined;
      if (isObject(info) && typeof info.name === "string" && info.name !== "") this.serverName = frameText(info.name);
      return;
    }
    const call = this.take(k);
    if (call === undefined) return;
    if (isError) return this.options.record({ call, decision: "allowed", error: rpcErrorText(error) });
    const output: Payload = { value: result, line };
    if (isObject(result) && result.resultType === "input_required") {
      this.expectRetry(call, result);
      return this.options.record({ call, decision: "pending", output });
    }
    if (isObject(result) && result.isError === true) {
      return this.options.record({ call, decision: "allowed", output, error: toolErrorText(result) });
    }
    this.options.record({ call, decision: "allowed", output });
  }

  /** `notifications/cancelled` from the client: the call it names ends as a failure. */
  cancelled(params: unknown): void {
    if (!isObject(params) || (typeof params.requestId !== "string" && typeof params.requestId !== "number")) return;
    const call = this.take(idKey(params.requestId));
    if (call === undefined) return;
    const reason = typeof params.reason === "string" && params.reason !== "" ? `: ${frameText(params.reason.slice(0, MAX_ERROR_TEXT))}` : "";
    this.options.record({ call, decision: "allowed", error: `cancelled by the client${reason}` });
  }

  /** Every call still waiting ends with `error` (the server died, the proxy shut down). */
  closeAll(error: string): void {
    const open = [...this.awaiting.values()].flat();
    this.awaiting.clear();
    this.awaitingCount = 0;
    for (const call of open) this.options.record({ call, decision: "allowed", error });
  }

  private take(k: string): TrackedCall | undefined {
    const list = this.awaiting.get(k);
    if (list === undefined) return undefined;
    const call = list.shift();
    if (list.length === 0) this.awaiting.delete(k);
    this.awaitingCount--;
    return call;
  }

  /**
   * `<session>/<n>/<id as JSON>`: n counts this session's calls, so that an id
   * the client uses again still gets a key of its own (without remembering
   * every id); hashed when too long for a frame's short field.
   */
  private keyFor(id: RpcId, n: number): string {
    const key = `${this.options.sessionId}/${n}/${idKey(id)}`;
    if (Buffer.byteLength(key, "utf8") <= SHORT_FIELD_MAX_BYTES) return key;
    return `sha256:${createHash("sha256").update(key, "utf8").digest("hex")}`;
  }

  private retryKeys(tool: string, params: JsonObject): string[] {
    const keys = [`args:${tool}\0${JSON.stringify(params.arguments ?? null)}`];
    if (typeof params.requestState === "string") keys.unshift(`state:${params.requestState}`);
    return keys;
  }

  private expectRetry(call: TrackedCall, result: JsonObject): void {
    const params: JsonObject = { arguments: call.input?.value, requestState: result.requestState };
    for (const k of this.retryKeys(call.tool, params)) this.retries.set(k, call.correlationId);
    while (this.retries.size > MAX_AWAITED_RETRIES) this.retries.delete(this.retries.keys().next().value!);
  }

  /** A retry (it carries inputResponses or requestState) continues the call that asked for input. */
  private linkedCorrelation(tool: string, params: JsonObject): string | undefined {
    if (params.inputResponses === undefined && params.requestState === undefined) return undefined;
    if (this.retries.size === 0) return undefined;
    const keys = this.retryKeys(tool, params);
    for (const k of keys) {
      const correlation = this.retries.get(k);
      if (correlation === undefined) continue;
      for (const other of keys) this.retries.delete(other);
      return correlation;
    }
    return undefined;
  }
}
