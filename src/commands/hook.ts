import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { EXIT_USAGE, UserFacingError } from "../errors.ts";
import { defaultDataDir } from "../paths/resolve.ts";
import { timeoutFlag } from "../emit-cli/input.ts";
import { TOOL_HOOK_EVENTS } from "../hook/claude-code.ts";
import { runClaudeCodeHook, type HookOutcome } from "../hook/run.ts";
import { readStdin } from "../hook/stdin.ts";
import { recordUnusableInvocation, type HookExit } from "../hook/unusable.ts";
import { printError } from "../cli/output.ts";

const DEFAULT_CONFIRM_MS = 500;

function warn(message: string): void {
  printError(`agent-receipts: warning: ${message}`);
}

function exitWith(verdict: HookExit): void {
  printError(verdict.stderr.replace(/\n$/, ""));
  process.exitCode = verdict.exitCode;
}

const claudeCodeCommand = cliCommand(defineCommand({
  meta: {
    name: "claude-code",
    description:
      `Claude Code hook (${TOOL_HOOK_EVENTS.join(", ")}): reads the hook payload on stdin and records the tool call. ` +
      "Always exits 0 so the agent is never disturbed (a warning on stderr when not recorded), unless --strict.",
  },
  args: {
    strict: { type: "boolean", description: "Fail closed: exit 2 with the reason on stderr whenever the event is not recorded (Claude Code then blocks the tool call in PreToolUse)" },
    socket: { type: "string", description: "Daemon socket (default: $AGENTRECEIPTS_SOCKET or the platform default)", valueHint: "PATH" },
    "timeout-ms": { type: "string", description: `How long to wait for the daemon's confirmation (default: ${DEFAULT_CONFIRM_MS})`, valueHint: "MS" },
  },
  async run({ args }) {
    const strict = args.strict === true;
    const dataDir = defaultDataDir();
    const stdinText = await readStdin();
    let timeoutMs = DEFAULT_CONFIRM_MS;
    try {
      timeoutMs = timeoutFlag(args["timeout-ms"], DEFAULT_CONFIRM_MS);
    } catch (err) {
      if (strict) return exitWith(recordUnusableInvocation((err as Error).message, stdinText, { dataDir, strict }));
      // A typo in the hook's settings must not block every tool call: record with the default.
      warn(`${(err as Error).message}; using ${DEFAULT_CONFIRM_MS}`);
    }
    let outcome: HookOutcome;
    try {
      outcome = await runClaudeCodeHook(stdinText, { socketPath: args.socket, dataDir, confirmTimeoutMs: timeoutMs });
    } catch (err) {
      // A bug here must not break the agent's tool call, nor go unnoticed in the chain.
      return exitWith(recordUnusableInvocation(`hook failed: ${(err as Error).message}`, stdinText, { dataDir, strict }));
    }
    if (outcome.status === "ignored") return;
    for (const w of outcome.warnings) warn(w);
    if (outcome.status === "delivered") return;
    if (!strict) return warn(outcome.message);
    // Fail closed: anything short of a confirmed record blocks (exit 2; Claude Code shows stderr).
    throw new UserFacingError(outcome.message, EXIT_USAGE);
  },
}), {
  // A typo in the hook's settings must not block every tool call (exit 0 and a warning unless --strict), and must leave a trace.
  async onUsageError(err, argv) {
    const verdict = recordUnusableInvocation(err.message, await readStdin(), { dataDir: defaultDataDir(), strict: argv.includes("--strict") });
    printError(verdict.stderr.replace(/\n$/, ""));
    return verdict.exitCode;
  },
});

export const hookCommand = cliCommand(defineCommand({
  meta: { name: "hook", description: "Agent hooks that record every tool call as a receipt" },
  subCommands: { "claude-code": claudeCodeCommand },
}));
