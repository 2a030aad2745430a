// The proxy's end of approvals: a Unix socket in the user's private approval
// directory, opened only when the policy can pause a call. Each connection
// carries one JSON request line and gets one JSON answer line.
import { chmodSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import {
  checkSocketPath, ensurePrivateDir, MAX_REQUEST_BYTES, socketPathOf,
  type ApprovalAnswer, type ApprovalRequest, type WaitingCall,
} from "./approval.ts";

interface Waiting {
  info: Omit<WaitingCall, "waited_ms">;
  since: number;
  decide(approve: boolean, reason: string | undefined): void;
}

function parseRequest(text: string): ApprovalRequest | undefined {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (v.op === "list") return { op: "list" };
    if (v.op === "decide" && typeof v.call_id === "string" && typeof v.approve === "boolean") {
      // The reason goes into a frame: well-formed text only, and short.
      const reason = typeof v.reason === "string" && v.reason !== "" ? v.reason.toWellFormed().slice(0, 1024) : undefined;
      return { op: "decide", call_id: v.call_id, approve: v.approve, reason };
    }
  } catch {
    // answered as a bad request below
  }
  return undefined;
}

export class ApprovalServer {
  private readonly waiting = new Map<string, Waiting>();

  private constructor(readonly path: string, private readonly server: Server) {}

  static async open(dir: string, tag: string): Promise<ApprovalServer> {
    ensurePrivateDir(dir);
    const path = socketPathOf(dir, tag);
    checkSocketPath(path);
    const server = createServer({ allowHalfOpen: true });
    const approvals = new ApprovalServer(path, server);
    server.on("connection", (socket) => approvals.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    // Approvals must never keep the proxy alive on their own.
    server.unref();
    return approvals;
  }

  /** Holds a call until decide() is called through the socket (the caller owns the timeout). */
  add(info: Omit<WaitingCall, "waited_ms">, decide: Waiting["decide"]): void {
    this.waiting.set(info.call_id, { info, since: Date.now(), decide });
  }

  remove(callId: string): void {
    this.waiting.delete(callId);
  }

  close(): void {
    this.server.close();
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  private list(): WaitingCall[] {
    const now = Date.now();
    return [...this.waiting.values()].map((w) => ({ ...w.info, waited_ms: now - w.since }));
  }

  private answer(request: ApprovalRequest | undefined): ApprovalAnswer {
    if (request === undefined) return { ok: false, error: "bad request: expected one JSON line {op: list|decide, ...}" };
    if (request.op === "list") return { ok: true, calls: this.list() };
    const w = this.waiting.get(request.call_id);
    if (w === undefined) return { ok: false, error: `no call ${request.call_id} is waiting here (already decided or timed out)` };
    this.waiting.delete(request.call_id);
    w.decide(request.approve, request.reason);
    return { ok: true, call: { ...w.info, waited_ms: Date.now() - w.since } };
  }

  private serve(socket: Socket): void {
    let text = "";
    socket.setEncoding("utf8");
    const reply = (a: ApprovalAnswer) => socket.end(`${JSON.stringify(a)}\n`);
    socket.on("data", (chunk: string) => {
      text += chunk;
      const nl = text.indexOf("\n");
      if (nl >= 0) {
        socket.removeAllListeners("data");
        reply(this.answer(parseRequest(text.slice(0, nl))));
      } else if (text.length > MAX_REQUEST_BYTES) {
        socket.removeAllListeners("data");
        reply({ ok: false, error: "request too long" });
      }
    });
    socket.on("error", () => socket.destroy());
  }
}
