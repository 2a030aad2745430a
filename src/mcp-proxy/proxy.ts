// `agent-receipts mcp-proxy -- <server>`: wires the parts together. The relay
// forwards the client's bytes to the server and the server's to the client as
// they come; a copy of each line goes to the tracker, whose records go to the
// daemon through the emitter's bounded queue, never in the relay's way.
import { randomBytes } from "node:crypto";
import { DropFile } from "../emit-cli/drop-file.ts";
import { defaultDataDir } from "../paths/resolve.ts";
import { approvalDir } from "./approval.ts";
import { ApprovalServer } from "./approval-server.ts";
import { describeEnd, exitStatus, ServerLifetime, startServer } from "./child.ts";
import { ClientGate } from "./gate.ts";
import { GcPacer } from "./gc-pacer.ts";
import { messagesOf } from "./jsonrpc.ts";
import { LineSplitter, type Line } from "./lines.ts";
import { Outlet } from "./outlet.ts";
import { MCP_CHANNEL } from "./frames.ts";
import { actionTypeFor, type Policy } from "./policy.ts";
import { Recorder } from "./recorder.ts";
import { DEFAULT_SKELETON_LIMITS } from "./skeleton.ts";
import { CallTracker, type CallEvent } from "./tracker.ts";

export interface ProxyOptions {
  command: string;
  args: string[];
  /** `--name`: tool.server of every frame (else the server's serverInfo.name). */
  name: string | undefined;
  sessionId: string | undefined;
  socketPath: string | undefined;
  policy: Policy | undefined;
  /** Wait after closing the server's stdin before SIGTERM, and after SIGTERM before SIGKILL. */
  graceMs: number;
  /** Bound on waiting for the daemon's confirmation at exit. */
  confirmMs: number;
}

/** Lines up to this size are parsed whole; longer ones are read as they stream by. */
export const BUFFER_LIMIT = 1024 * 1024;
/**
 * Scales JavaScriptCore's JIT tier-up thresholds so that the proxy's code
 * stays (almost) interpreted: the optimizing JITs would save about 0.1 ms per
 * call but cost about 12 MB of RSS (compiled code, and the compilers' own
 * pages), which the GC pacer would have to make up for by collecting more
 * often. Each collection also gets cheaper with less compiled code to scan.
 */
const JIT_POLICY = 1000;
const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function notice(message: string): void {
  process.stderr.write(`agent-receipts mcp-proxy: ${message}\n`);
}

/** Eight base-32 characters: names this run's approval socket and prefixes its call ids. */
function randomTag(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  return [...randomBytes(8)].map((b) => alphabet[b & 31]).join("");
}

function needsApprovals(policy: Policy | undefined): boolean {
  return policy !== undefined && (policy.fallback.action === "pause" || policy.rules.some((r) => r.action === "pause"));
}

/** Runs the proxy until the server has ended; resolves with the exit status to use. */
export async function runProxy(o: ProxyOptions): Promise<number> {
  Bun.unsafe.setJITPolicy(JIT_POLICY);
  const recorder = new Recorder({
    socketPath: o.socketPath, sessionId: o.sessionId, carryOver: DropFile.carriedOver(defaultDataDir(), MCP_CHANNEL), warn: (m) => notice(`warning: ${m}`),
  });
  const tag = randomTag();
  const serverName = (): string | undefined => o.name ?? tracker.serverName;
  const record = (e: CallEvent) => {
    const server = serverName();
    recorder.record(e, { server, actionType: o.policy === undefined ? undefined : actionTypeFor(o.policy, e.call.tool, server) });
  };
  const tracker: CallTracker = new CallTracker({ sessionId: recorder.sessionId, tag, record });
  const approvals = needsApprovals(o.policy) ? await ApprovalServer.open(approvalDir(), tag) : undefined;

  let child;
  try {
    child = await startServer(o.command, o.args);
  } catch (err) {
    approvals?.close();
    throw err;
  }
  const lifetime = new ServerLifetime(child, o.graceMs);
  const toClient = new Outlet(process.stdout, child.stdout);
  const toServer = new Outlet(child.stdin, process.stdin);
  const gated = o.policy !== undefined;
  const gate = new ClientGate({
    tracker, policy: o.policy, approvals, sessionId: recorder.sessionId, serverName,
    toClient: (line) => toClient.inject(line),
    toServer: (bytes) => toServer.raw(bytes),
    lineToServer: (line) => toServer.inject(line),
    notice,
  });

  // Auditing must never break the relay: a bug in tracking warns once and the bytes still go through.
  let trackingFailed = false;
  const guarded = (what: () => void, fallback?: () => void) => {
    try {
      what();
    } catch (err) {
      if (!trackingFailed) notice(`warning: tracking stopped working (${err instanceof Error ? err.message : String(err)}); relaying goes on`);
      trackingFailed = true;
      fallback?.();
    }
  };
  // A batch of more than 1024 messages in one line over 1 MiB: the skeleton keeps the first 1024.
  // The gated relay reads the rest from the bytes it holds; otherwise they go through unrecorded.
  let warnedBatch = false;
  const untracked = (line: Line) => {
    if (warnedBatch || line.elementsNotKept === undefined || line.elementsNotKept === 0) return;
    warnedBatch = true;
    const kept = DEFAULT_SKELETON_LIMITS.maxEntries;
    notice(`warning: a batch of ${line.elementsNotKept + kept} messages in one line of ${line.bytes} bytes: messages after the ${kept}th are relayed but not recorded (warned once)`);
  };
  const clientLines = new LineSplitter({
    line: (line, raw, terminated) => guarded(() => {
      if (raw === null) untracked(line);
      gate.line(line, raw, terminated);
    }, () => {
      for (const part of raw ?? []) toServer.raw(part);
      if (raw !== null && terminated) toServer.raw(Buffer.from("\n"));
    }),
  }, BUFFER_LIMIT, gated);
  const serverLines = new LineSplitter({
    line: (line: Line) => guarded(() => {
      untracked(line);
      for (const m of messagesOf(line.value)) if (m.kind === "response") tracker.response(m.id, m.result, m.error, m.isError, line);
    }),
  }, BUFFER_LIMIT);

  const pacer = new GcPacer();
  let clientGone = false;
  const clientEnded = () => {
    if (clientGone) return;
    clientGone = true;
    clientLines.finish();
    // The server's stdin closes now: a held call could no longer reach it, so it is refused
    // at once (the client may still read its answer) rather than approved into the void.
    guarded(() => gate.shutdown());
    lifetime.stop();
  };
  process.stdin.on("data", (chunk: Buffer) => {
    if (!gated) toServer.raw(chunk);
    clientLines.push(chunk);
    pacer.add(chunk.length);
  });
  process.stdin.on("end", clientEnded);
  process.stdin.on("error", clientEnded);
  // The client stopped reading: nothing more can reach it.
  process.stdout.on("error", () => {
    child.stdout.removeAllListeners("data");
    child.stdout.resume();
    clientEnded();
  });
  const serverOutput = new Promise<void>((resolve) => {
    child.stdout.on("end", resolve);
    child.stdout.on("close", resolve);
  });
  child.stdout.on("data", (chunk: Buffer) => {
    toClient.raw(chunk);
    serverLines.push(chunk);
    pacer.add(chunk.length);
  });

  let signalled: NodeJS.Signals | undefined;
  const forward = (sig: NodeJS.Signals) => {
    signalled = sig;
    lifetime.forward(sig);
  };
  for (const sig of FORWARDED_SIGNALS) process.on(sig, forward);

  const ended = await lifetime.ended;
  // Relay what the server wrote before it ended; a grandchild holding its stdout open must not hold us forever.
  await Promise.race([serverOutput, Bun.sleep(o.graceMs)]);
  guarded(() => serverLines.finish());
  // The handlers stay: a signal now (the server is gone) must not kill the proxy while it records
  // the open calls and waits, at most confirmMs, for the daemon to confirm them.
  pacer.stop();
  guarded(() => {
    gate.shutdown();
    const why = signalled !== undefined ? `the proxy was stopped (${signalled})` : clientGone ? "the client closed the connection and the proxy shut down" : undefined;
    tracker.closeAll(why !== undefined ? `${why} before the server answered (the server ${describeEnd(ended)})` : `the server ${describeEnd(ended)} before answering`);
  });
  await toClient.flush();
  approvals?.close();
  await recorder.close(o.confirmMs);
  return exitStatus(ended);
}
