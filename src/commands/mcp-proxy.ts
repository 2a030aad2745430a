import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { EmitValidationError } from "../emitter/errors.ts";
import { UserFacingError } from "../errors.ts";
import type { Policy } from "../mcp-proxy/policy.ts";
import { envValue } from "../paths/resolve.ts";

const DEFAULT_GRACE_MS = 2000;
const DEFAULT_CONFIRM_MS = 1000;
export const SESSION_ENV = "AGENTRECEIPTS_SESSION_ID";
const USAGE = "agent-receipts mcp-proxy [options] -- <command> [args...]";

/** The words after "--" (the server command); words before it are a usage error. */
function serverCommand(rawArgs: readonly string[], rest: readonly string[], usage: string): [string, string[]] {
  const dash = rawArgs.indexOf("--");
  const after = dash < 0 ? 0 : rawArgs.length - dash - 1;
  if (rest.length > after) {
    throw new UserFacingError(`unexpected argument "${rest[0]}" before "--": put the MCP server command after "--", as in: ${usage}`);
  }
  // A named positional took a word from after "--": it was missing before it.
  if (rest.length < after) throw new UserFacingError(`missing a word before "--", as in: ${usage}`);
  if (after === 0) throw new UserFacingError(`no MCP server command: give it after "--", as in: ${usage}`);
  return [rawArgs[dash + 1]!, rawArgs.slice(dash + 2)];
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === "") throw new UserFacingError(`${flag} must not be empty`);
  return value;
}

function graceFlag(value: string | undefined): number {
  if (value === undefined) return DEFAULT_GRACE_MS;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n > 600_000) throw new UserFacingError(`--grace-ms must be a whole number of milliseconds from 0 to 600000 (got "${value}")`);
  return n;
}

async function flushStd(): Promise<void> {
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => {
    if (s.destroyed || s.writableEnded) return resolve();
    s.write("", () => resolve());
  })));
}

const initCommand = cliCommand(defineCommand({
  meta: {
    name: "init",
    description: "Print the configuration that puts the proxy in front of an MCP server, for Claude Code, Claude Desktop, Codex, Cursor and VS Code, with absolute paths.",
  },
  args: {
    name: { type: "positional", required: true, description: "The server's name in the client (also the receipts' tool.server)", valueHint: "NAME" },
    policy: { type: "string", description: "Policy file to pass to the proxy", valueHint: "FILE" },
  },
  async run({ args, rawArgs }) {
    const { resolvePaths, snippets } = await import("../mcp-proxy/init.ts");
    const [command, commandArgs] = serverCommand(rawArgs, args._ as string[], "agent-receipts mcp-proxy init <name> -- <command> [args...]");
    const input = { name: args.name, command, args: commandArgs, policy: nonEmpty("--policy", args.policy) };
    const resolved = resolvePaths(input);
    for (const w of resolved.warnings) process.stderr.write(`agent-receipts: warning: ${w}\n`);
    process.stdout.write(snippets(input, resolved));
  },
}), { acceptsRest: true });

export const mcpProxyCommand = cliCommand(defineCommand({
  meta: {
    name: "mcp-proxy",
    description:
      "Run an MCP server (stdio) behind a recording proxy: every byte is relayed unchanged, and every tools/call is sent to the daemon " +
      "as a pending and a final event. Exits with the server's exit status (128+signal when it was killed; 127/126 when it cannot start).",
  },
  args: {
    name: { type: "string", description: "Server name for the receipts' tool.server (default: the server's serverInfo.name)", valueHint: "NAME" },
    "session-id": { type: "string", description: `Session id of the receipts (default: $${SESSION_ENV}, else a fresh UUID per run)`, valueHint: "ID" },
    socket: { type: "string", description: "Daemon socket (default: $AGENTRECEIPTS_SOCKET or the platform default)", valueHint: "PATH" },
    policy: { type: "string", description: "Policy file (TOML): rules that allow, deny or pause calls (off by default)", valueHint: "FILE" },
    "grace-ms": { type: "string", description: `After the client closes: wait this long for the server to exit before SIGTERM, and again before SIGKILL (default: ${DEFAULT_GRACE_MS})`, valueHint: "MS" },
  },
  subCommands: { init: initCommand },
  async run({ args, rawArgs }) {
    const [command, commandArgs] = serverCommand(rawArgs, args._ as string[], USAGE);
    const name = nonEmpty("--name", args.name);
    const sessionId = nonEmpty("--session-id", args["session-id"]) ?? envValue(process.env, SESSION_ENV);
    const socketPath = nonEmpty("--socket", args.socket);
    const graceMs = graceFlag(args["grace-ms"]);
    let policy: Policy | undefined;
    if (args.policy !== undefined) policy = (await import("../mcp-proxy/policy-file.ts")).loadPolicy(nonEmpty("--policy", args.policy)!);
    const { runProxy } = await import("../mcp-proxy/proxy.ts");
    let status: number;
    try {
      status = await runProxy({ command, args: commandArgs, name, sessionId, socketPath, policy, graceMs, confirmMs: DEFAULT_CONFIRM_MS });
    } catch (err) {
      if (err instanceof EmitValidationError) {
        const flag = err.field === "socketPath" ? "--socket (or AGENTRECEIPTS_SOCKET)" : err.field === "sessionId" ? `--session-id (or ${SESSION_ENV})` : err.field;
        throw new UserFacingError(`${flag} ${err.rule}`);
      }
      throw err;
    }
    await flushStd();
    // The client's stdin may still be open: the proxy's life ends with the server's.
    process.exit(status);
  },
}), {
  acceptsRest: true,
  footer: [
    "Examples:",
    "  agent-receipts mcp-proxy -- npx -y @modelcontextprotocol/server-filesystem /home/me",
    "  agent-receipts mcp-proxy --name github --policy ~/.config/agent-receipts/policy.toml -- /usr/local/bin/github-mcp-server stdio",
    "  agent-receipts mcp-proxy init fs -- npx -y @modelcontextprotocol/server-filesystem /home/me",
    "",
    "Calls a policy denies (or that are not approved) get JSON-RPC error -32060 with the rule in error.data.",
    "Paused calls: agent-receipts approve <call-id> | agent-receipts deny <call-id> | agent-receipts approve --list",
  ].join("\n"),
});
