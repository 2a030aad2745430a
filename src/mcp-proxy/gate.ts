// What of the client's traffic reaches the server. Without a policy every
// byte is already forwarded by the time a line gets here; this only tracks
// calls. With a policy, complete lines are forwarded here, except calls a rule
// denies (answered with a JSON-RPC error, never forwarded) or pauses (held,
// alone: other traffic keeps flowing, until approve/deny or the timeout).
import type { ApprovalServer } from "./approval-server.ts";
import { forEachArrayElement } from "./batch.ts";
import { classify, errorResponse, idKey, isObject, type RpcMessage } from "./jsonrpc.ts";
import type { Line } from "./lines.ts";
import { SkeletonParser } from "./skeleton.ts";
import { decide, type Policy, type Verdict } from "./policy.ts";
import type { CallTracker, TrackedCall } from "./tracker.ts";

/** JSON-RPC error code of calls the proxy's policy refused (denied, not approved in time, or shut down while held). */
export const POLICY_REFUSED_CODE = -32060;

export type RefusalReason = "policy" | "denied" | "timeout" | "shutdown";

export interface GateDeps {
  tracker: CallTracker;
  policy: Policy | undefined;
  approvals: ApprovalServer | undefined;
  sessionId: string;
  serverName(): string | undefined;
  /** Writes one line of the proxy's own to the client (between the server's lines). */
  toClient(line: string): void;
  /** Forwards bytes of the client's stream to the server. */
  toServer(bytes: Buffer): void;
  /** Writes one whole line (a held call, approved) to the server. */
  lineToServer(line: Buffer): void;
  notice(message: string): void;
}

type ElementVerdict = { kind: "forward" } | { kind: "answered" } | { kind: "hold"; call: TrackedCall; verdict: Verdict };

interface Held {
  call: TrackedCall;
  rule: string;
  line: Buffer;
  timer: ReturnType<typeof setTimeout>;
}

const FORWARD: ElementVerdict = { kind: "forward" };
const NEWLINE = Buffer.from("\n");

/** One element of a long batch, read the way the line splitter reads a long line. */
function messageSkeleton(bytes: Buffer): unknown {
  const parser = new SkeletonParser();
  parser.push(bytes);
  return parser.finish();
}

export class ClientGate {
  private readonly held = new Map<string, Held>();

  constructor(private readonly deps: GateDeps) {}

  get heldCount(): number {
    return this.held.size;
  }

  /** One line from the client; `raw` is given only when the relay is gated (a policy is loaded). */
  line(line: Line, raw: Buffer[] | null, terminated: boolean): void {
    const value = line.value;
    if (!Array.isArray(value)) {
      const v = this.element(classify(value), line);
      if (raw === null) return;
      if (v.kind === "forward") this.forward(raw, terminated);
      else if (v.kind === "hold") this.hold(v.call, v.verdict, Buffer.concat(raw));
      return;
    }
    if (raw === null) {
      for (const element of value) this.element(classify(element), line);
      return;
    }
    this.batch(value, line, raw, terminated);
  }

  /**
   * A batch through the gated relay: every element is judged, also those a
   * long line's skeleton does not keep (it keeps the first 1024; the rest are
   * read here, one at a time, from the bytes the gate holds anyway), so that
   * no call late in a batch escapes the policy. The elements not refused go
   * on as a batch of their original bytes.
   */
  private batch(value: unknown[], line: Line, raw: Buffer[], terminated: boolean): void {
    const text = raw.length === 1 ? raw[0]! : Buffer.concat(raw);
    /** [start, end) of the elements not forwarded, in order. */
    const withheld: number[] = [];
    forEachArrayElement(text, (start, end, i) => {
      // Only an object can be a message: other elements are not read.
      const element = line.complete ? value[i] : text[start] === 0x7b ? messageSkeleton(text.subarray(start, end)) : undefined;
      const v = this.element(classify(element), line);
      if (v.kind === "forward") return;
      if (v.kind === "hold") this.hold(v.call, v.verdict, Buffer.from(text.subarray(start, end)));
      withheld.push(start, end);
    });
    if (withheld.length === 0) return this.forward(raw, terminated);
    const out = Buffer.allocUnsafe(text.length);
    let n = 0;
    let next = 0;
    let kept = 0;
    forEachArrayElement(text, (start, end) => {
      if (withheld[next] === start) {
        next += 2;
        return;
      }
      out[n++] = kept++ === 0 ? 0x5b : 0x2c;
      n += text.copy(out, n, start, end);
    });
    if (kept === 0) return;
    out[n++] = 0x5d;
    this.deps.lineToServer(out.subarray(0, n));
  }

  /** Refuses every held call (the proxy is shutting down). */
  shutdown(): void {
    for (const callId of [...this.held.keys()]) this.release(callId, false, "shutdown", undefined);
  }

  private forward(raw: Buffer[], terminated: boolean): void {
    for (const part of raw) this.deps.toServer(part);
    if (terminated) this.deps.toServer(NEWLINE);
  }

  private element(msg: RpcMessage | null, line: Line): ElementVerdict {
    if (msg === null) return FORWARD;
    const { tracker, policy } = this.deps;
    if (msg.kind === "notification") {
      if (msg.method === "notifications/cancelled") this.cancelled(msg.params);
      return FORWARD;
    }
    if (msg.kind !== "request") return FORWARD;
    const call = tracker.request(msg.id, msg.method, msg.params, line);
    if (call === null) return FORWARD;
    const verdict = policy === undefined ? undefined : decide(policy, call.tool, this.deps.serverName());
    if (verdict === undefined || verdict.action === "allow") {
      tracker.pending(call);
      tracker.forwarded(call);
      return FORWARD;
    }
    if (verdict.action === "pause") {
      tracker.pending(call);
      return { kind: "hold", call, verdict };
    }
    this.refuse(call, verdict.rule, "policy", undefined);
    return { kind: "answered" };
  }

  private hold(call: TrackedCall, verdict: Verdict, line: Buffer): void {
    const server = this.deps.serverName();
    const timer = setTimeout(() => this.release(call.callId, false, "timeout", undefined), verdict.timeoutMs);
    timer.unref();
    this.held.set(call.callId, { call, rule: verdict.rule, line, timer });
    this.deps.approvals?.add(
      { call_id: call.callId, tool: call.tool, ...(server === undefined ? {} : { server }), rule: verdict.rule, session_id: this.deps.sessionId, timeout_ms: verdict.timeoutMs },
      (approve, reason) => this.release(call.callId, approve, "denied", reason),
    );
    const on = server === undefined ? "" : ` on server "${server}"`;
    this.deps.notice(
      `call ${call.callId} (tool "${call.tool}"${on}) is paused by policy rule "${verdict.rule}": ` +
      `run "agent-receipts approve ${call.callId}" or "agent-receipts deny ${call.callId}" within ${Math.round(verdict.timeoutMs / 1000)} s`,
    );
  }

  private release(callId: string, approve: boolean, why: RefusalReason, reason: string | undefined): void {
    const h = this.held.get(callId);
    if (h === undefined) return;
    this.held.delete(callId);
    clearTimeout(h.timer);
    this.deps.approvals?.remove(callId);
    if (approve) {
      this.deps.notice(`call ${callId} (tool "${h.call.tool}") was approved${reason ? `: ${reason}` : ""}`);
      this.deps.tracker.forwarded(h.call);
      this.deps.lineToServer(h.line);
      return;
    }
    this.refuse(h.call, h.rule, why, reason);
  }

  private refuse(call: TrackedCall, rule: string, why: RefusalReason, reason: string | undefined): void {
    const text = {
      policy: `denied by policy rule "${rule}"`,
      denied: `denied by the approver${reason ? `: ${reason}` : ""} (policy rule "${rule}")`,
      timeout: `not approved in time (policy rule "${rule}")`,
      shutdown: `the proxy shut down while the call waited for approval (policy rule "${rule}")`,
    }[why];
    this.deps.tracker.endUnsent(call, "denied", text);
    if (why !== "policy") this.deps.notice(`call ${call.callId} (tool "${call.tool}") was ${text}`);
    const data = { rule, call_id: call.callId, reason: why, ...(reason ? { message: reason } : {}) };
    this.deps.toClient(errorResponse(call.rpcId, POLICY_REFUSED_CODE, `agent-receipts: the call to tool "${call.tool}" was ${text}`, data));
  }

  /** A cancellation of a held call ends it here (the server never saw it); others are the tracker's. */
  private cancelled(params: unknown): void {
    if (isObject(params) && (typeof params.requestId === "string" || typeof params.requestId === "number")) {
      const k = idKey(params.requestId);
      for (const [callId, h] of this.held) {
        if (idKey(h.call.rpcId) !== k) continue;
        this.held.delete(callId);
        clearTimeout(h.timer);
        this.deps.approvals?.remove(callId);
        this.deps.tracker.endUnsent(h.call, "allowed", "cancelled by the client while it waited for approval");
        return;
      }
    }
    this.deps.tracker.cancelled(params);
  }
}
