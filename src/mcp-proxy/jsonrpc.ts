// JSON-RPC 2.0 messages as the proxy sees them: what kind a value is, and a
// request key that keeps the id's JSON type (`1` and `"1"` are different
// requests; the reference proxy normalised them and mixed them up).

export type RpcId = string | number;

export type RpcMessage =
  | { kind: "request"; id: RpcId; method: string; params: unknown }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "response"; id: RpcId | null; result: unknown; error: unknown; isError: boolean };

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isRpcId(v: unknown): v is RpcId {
  return typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

/** The id as JSON text: `1` and `"1"` differ, so requests keyed by it never collide across types. */
export function idKey(id: RpcId): string {
  return JSON.stringify(id);
}

/** One message, or null for anything that is not a JSON-RPC message (passed through, not recorded). */
export function classify(value: unknown): RpcMessage | null {
  if (!isObject(value)) return null;
  const method = value.method;
  if (typeof method === "string") {
    if ("id" in value && isRpcId(value.id)) return { kind: "request", id: value.id, method, params: value.params };
    if (!("id" in value)) return { kind: "notification", method, params: value.params };
    return null;
  }
  if ("result" in value || "error" in value) {
    const id = isRpcId(value.id) ? value.id : null;
    return { kind: "response", id, result: value.result, error: value.error, isError: "error" in value && value.error !== undefined };
  }
  return null;
}

/** The messages of one line: a batch (a JSON array, sent by clients of older revisions) element by element. */
export function messagesOf(value: unknown): RpcMessage[] {
  if (!Array.isArray(value)) {
    const m = classify(value);
    return m === null ? [] : [m];
  }
  const out: RpcMessage[] = [];
  for (const element of value) {
    const m = classify(element);
    if (m !== null) out.push(m);
  }
  return out;
}

/** A JSON-RPC error response line (what the proxy itself answers, e.g. for a call its policy denies). */
export function errorResponse(id: RpcId, code: number, message: string, data: unknown): string {
  return JSON.stringify({ jsonrpc: "2.0", id, error: { code, message, data } });
}
