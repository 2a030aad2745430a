// One run of `agent-receipts hook claude-code`: payload -> event -> daemon,
// with the session's drop counter carried in and out. Never throws for
// transport or payload problems: the outcome says what happened.
import { EmitValidationError } from "../emitter/errors.ts";
import type { EmitEvent } from "../emitter/event.ts";
import { Delivery, delivered } from "../emit-cli/delivery.ts";
import { undeliveredMessage } from "../emit-cli/messages.ts";
import { CLAUDE_CODE_CHANNEL, HookPayloadError, mapClaudeCodeHook, type HookEvent } from "./claude-code.ts";
import { DropFile } from "../emit-cli/drop-file.ts";
import { countLostEvent } from "./unusable.ts";

export interface HookOptions {
  socketPath?: string;
  /** The user's data dir (defaultDataDir()): home of the per-session drop counters. */
  dataDir: string;
  confirmTimeoutMs: number;
}

export type HookOutcome =
  | { status: "ignored" }
  | { status: "delivered"; warnings: string[] }
  | { status: "not_delivered" | "unconfirmed" | "invalid"; message: string; warnings: string[] };

/** Payloads the frame cannot carry (over 1 MiB, not encodable) are replaced by a stand-in rather than losing the event. */
const REPLACEABLE_PAYLOADS = ["output", "input"] as const;

export async function runClaudeCodeHook(stdinText: string, options: HookOptions): Promise<HookOutcome> {
  const warnings: string[] = [];
  let mapped: HookEvent | null;
  try {
    mapped = mapClaudeCodeHook(JSON.parse(stdinText));
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof HookPayloadError) {
      return { status: "invalid", message: `not a Claude Code hook payload: ${err.message}${countLostEvent(options.dataDir, stdinText)}`, warnings };
    }
    throw err;
  }
  if (mapped === null) return { status: "ignored" };

  const drops = DropFile.forSession(options.dataDir, CLAUDE_CODE_CHANNEL, mapped.sessionId);
  // Drops whose session was never known are reported by whichever session delivers next.
  let carried = 0;
  for (const file of [drops, DropFile.forUnknownSession(options.dataDir, CLAUDE_CODE_CHANNEL)]) {
    try {
      carried += file.take();
    } catch (err) {
      warnings.push(`cannot read the drop counter ${file.path}: ${(err as Error).message}`);
    }
  }
  let delivery: Delivery;
  try {
    delivery = new Delivery({ channel: CLAUDE_CODE_CHANNEL, sessionId: mapped.sessionId, socketPath: options.socketPath, initialDropCount: carried });
  } catch (err) {
    store(drops, carried, warnings);
    return { status: "invalid", message: (err as Error).message, warnings };
  }

  let event: EmitEvent = mapped.event;
  let rejected: EmitValidationError | null = null;
  const replaced = new Set<string>();
  for (;;) {
    try {
      await delivery.send((em) => em.emit(event));
      break;
    } catch (err) {
      if (!(err instanceof EmitValidationError)) throw err;
      const field = REPLACEABLE_PAYLOADS.find((f) => f === err.field && event[f] !== undefined);
      // A stand-in that is itself refused would loop: give up on the event instead.
      if (field === undefined || replaced.has(field)) {
        rejected = err;
        break;
      }
      replaced.add(field);
      // Loaded only for an oversized payload: hashing needs the RFC 8785 code, which a hook rarely does.
      const standIn = (await import("./omitted.ts")).omittedPayload(event[field]);
      warnings.push(`sent a stand-in with the hash of the tool ${field} instead of the ${field} itself (${err.rule})`);
      event = { ...event, [field]: standIn };
    }
  }
  const report = await delivery.finish(options.confirmTimeoutMs);
  // An event the daemon would reject is lost too: count it, so the gap shows in the chain.
  store(drops, report.unreportedDrops + (rejected === null ? 0 : 1), warnings);
  if (rejected !== null) return { status: "invalid", message: `event not sent: ${rejected.message} (counted as dropped)`, warnings };
  if (delivered(report)) return { status: "delivered", warnings };
  const message = undeliveredMessage(report, { socketPath: delivery.emitter.socketPath, confirmTimeoutMs: options.confirmTimeoutMs });
  return report.failed > 0
    ? { status: "not_delivered", message: `${message} Counted in ${drops.path}; the next delivered event reports it.`, warnings }
    : { status: "unconfirmed", message, warnings };
}

function store(drops: DropFile, count: number, warnings: string[]): void {
  try {
    drops.add(count);
  } catch (err) {
    warnings.push(`cannot store ${count} dropped events in ${drops.path}: ${(err as Error).message}`);
  }
}
