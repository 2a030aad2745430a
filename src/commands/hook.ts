import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { EXIT_FAILURE, EXIT_USAGE, UserError } from "../cli/errors.ts";
import { defaultDataDir } from "../paths/resolve.ts";
import { timeoutFlag } from "../emit-cli/input.ts";
import { readStream, runClaudeCodeHook, type HookOutcome } from "../hook/run.ts";

const DEFAULT_CONFIRM_MS = 500;

function warn(message: string): void {
  process.stderr.write(`agent-receipts: warning: ${message}\n`);
}

const claudeCodeCommand = cliCommand(defineCommand({
  meta: {
    name: "claude-code",
    description:
      "Claude Code hook (PreToolUse, PostToolUse, PostToolUseFailure): reads the hook payload on stdin and records the tool call. " +
      "Always exits 0 so the agent is never disturbed (a warning on stderr when not delivered), unless --strict.",
  },
  args: {
    strict: { type: "boolean", description: "Exit 1 when the event is not delivered, 2 when the payload is unusable" },
    socket: { type: "string", description: "Daemon socket (default: $AGENTRECEIPTS_SOCKET or the platform default)", valueHint: "PATH" },
    "timeout-ms": { type: "string", description: `How long to wait for the daemon's confirmation (default: ${DEFAULT_CONFIRM_MS})`, valueHint: "MS" },
  },
  async run({ args }) {
    let timeoutMs = DEFAULT_CONFIRM_MS;
    try {
      timeoutMs = timeoutFlag(args["timeout-ms"], DEFAULT_CONFIRM_MS);
    } catch (err) {
      // A typo in the hook's settings must not block every tool call.
      if (args.strict) throw err;
      warn(`${(err as Error).message}; using ${DEFAULT_CONFIRM_MS}`);
    }
    let outcome: HookOutcome;
    try {
      outcome = await runClaudeCodeHook(await readStream(process.stdin), { socketPath: args.socket, dataDir: defaultDataDir(), confirmTimeoutMs: timeoutMs });
    } catch (err) {
      // A bug here must not break the agent's tool call.
      if (args.strict) throw err;
      warn(`hook failed: ${(err as Error).message}`);
      return;
    }
    if (outcome.status === "ignored") return;
    for (const w of outcome.warnings) warn(w);
    if (outcome.status === "delivered") return;
    if (!args.strict) return warn(outcome.message);
    throw new UserError(outcome.message, outcome.status === "invalid" ? EXIT_USAGE : EXIT_FAILURE);
  },
}), {
  // A typo in the hook's settings must not block every tool call: warn and exit 0, unless --strict.
  onUsageError(err, argv) {
    if (argv.includes("--strict")) {
      process.stderr.write(`agent-receipts: ${err.message}\n`);
      return EXIT_USAGE;
    }
    warn(err.message);
    return 0;
  },
});

export const hookCommand = cliCommand(defineCommand({
  meta: { name: "hook", description: "Agent hooks that record every tool call as a receipt" },
  subCommands: { "claude-code": claudeCodeCommand },
}));
