// An invocation of the Claude Code hook that cannot record its event (a
// mistyped flag in the settings, a payload it cannot map, a bug) must still
// leave a trace: the event counts as dropped in its session's drop file, so
// the next delivered event puts an events_dropped receipt in the chain.
import { EXIT_OK, EXIT_USAGE } from "../errors.ts";
import { CLAUDE_CODE_CHANNEL, lostEventOf } from "./claude-code.ts";
import { DropFile } from "../emit-cli/drop-file.ts";

export interface UnusableInvocationOptions {
  /** The user's data dir (defaultDataDir()): home of the drop counters. */
  dataDir: string;
  /** --strict was given: fail closed. */
  strict: boolean;
}

export interface HookExit {
  /** 0, or 2 with --strict (Claude Code then blocks the tool call in PreToolUse and shows stderr). */
  exitCode: number;
  /** One line for stderr, newline included. */
  stderr: string;
}

/**
 * Counts the event as dropped if the payload is, or may be, a tool call (not
 * for other hook events); returns the clause that says so, for the message.
 */
export function countLostEvent(dataDir: string, stdinText: string): string {
  const { lost, sessionId } = lostEventOf(stdinText);
  if (!lost) return "";
  const file = sessionId === undefined
    ? DropFile.forUnknownSession(dataDir, CLAUDE_CODE_CHANNEL)
    : DropFile.forSession(dataDir, CLAUDE_CODE_CHANNEL, sessionId);
  try {
    file.add(1);
    return `; the event was not recorded and is counted as dropped in ${file.path} (the next delivered event reports it)`;
  } catch (err) {
    return `; the event was not recorded, and counting it as dropped in ${file.path} failed: ${(err as Error).message}`;
  }
}

/**
 * For a hook invocation that cannot run (e.g. an unknown flag): `reason` is
 * the problem, `stdinText` the hook payload as read. Records the trace and
 * returns the exit code and stderr line under the --strict rules.
 */
export function recordUnusableInvocation(reason: string, stdinText: string, options: UnusableInvocationOptions): HookExit {
  const message = `${reason}${countLostEvent(options.dataDir, stdinText)}`;
  return options.strict
    ? { exitCode: EXIT_USAGE, stderr: `agent-receipts: ${message}\n` }
    : { exitCode: EXIT_OK, stderr: `agent-receipts: warning: ${message}\n` };
}
