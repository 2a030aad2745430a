// The `approve` / `deny` side: finds the proxy holding a call by the call
// id's tag, asks it over its Unix socket, and lists the calls every running
// proxy of this user holds (removing sockets left over by proxies that died).
import { lstatSync, readdirSync, unlinkSync } from "node:fs";
import { createConnection } from "node:net";
import { EXIT_FAILURE, UserFacingError } from "../errors.ts";
import { socketPathOf, tagOfCallId, type ApprovalAnswer, type ApprovalRequest, type WaitingCall } from "./approval.ts";

const ASK_TIMEOUT_MS = 2000;

class Unreachable extends Error {
  constructor(readonly code: string | undefined, message: string) {
    super(message);
  }
}

/** One request, one answer line. */
export function ask(path: string, request: ApprovalRequest, timeoutMs = ASK_TIMEOUT_MS): Promise<ApprovalAnswer> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path });
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Unreachable("ETIMEDOUT", `the proxy at ${path} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("end", () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(text) as ApprovalAnswer);
      } catch {
        reject(new Unreachable(undefined, `the proxy at ${path} gave no answer`));
      }
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Unreachable(err.code, err.message));
    });
  });
}

/** Every call waiting in every running proxy of this user. */
export async function listWaiting(dir: string): Promise<WaitingCall[]> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".sock"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new UserFacingError(`cannot read the approval directory ${dir}: ${(err as Error).message}`);
  }
  const lists = await Promise.all(names.map(async (name) => {
    const path = `${dir}/${name}`;
    try {
      const answer = await ask(path, { op: "list" });
      return answer.ok ? answer.calls ?? [] : [];
    } catch (err) {
      // A proxy that died without cleaning up left its socket: nothing listens there any more.
      if (err instanceof Unreachable && err.code === "ECONNREFUSED" && lstatSync(path).isSocket()) unlinkSync(path);
      return [];
    }
  }));
  return lists.flat().sort((a, b) => b.waited_ms - a.waited_ms);
}

/** Approves or denies one held call; the call as the proxy described it. */
export async function decideCall(dir: string, callId: string, approve: boolean, reason: string | undefined): Promise<WaitingCall> {
  const tag = tagOfCallId(callId);
  if (tag === undefined) throw new UserFacingError(`"${callId}" is not a call id (they look like "k3x9a2bq-4"); run "agent-receipts approve --list" to see the waiting calls`);
  const notWaiting = `no call ${callId} is waiting for approval: it was already decided, timed out, or its proxy exited. Run "agent-receipts approve --list" to see the waiting calls`;
  let answer: ApprovalAnswer;
  try {
    answer = await ask(socketPathOf(dir, tag), { op: "decide", call_id: callId, approve, ...(reason === undefined ? {} : { reason }) });
  } catch (err) {
    if (err instanceof Unreachable && (err.code === "ENOENT" || err.code === "ECONNREFUSED")) throw new UserFacingError(notWaiting, EXIT_FAILURE);
    throw new UserFacingError(`cannot reach the proxy holding ${callId}: ${(err as Error).message}`, EXIT_FAILURE);
  }
  if (!answer.ok) throw new UserFacingError(answer.error.startsWith("no call") ? notWaiting : answer.error, EXIT_FAILURE);
  return answer.call!;
}

export function describeWaiting(c: WaitingCall): string {
  const server = c.server === undefined ? "" : ` on server "${c.server}"`;
  const left = Math.max(0, Math.round((c.timeout_ms - c.waited_ms) / 1000));
  return `${c.call_id}  tool "${c.tool}"${server}  rule "${c.rule}"  waiting ${Math.round(c.waited_ms / 1000)} s, ${left} s left`;
}
