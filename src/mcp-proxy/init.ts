// `agent-receipts mcp-proxy init <name> -- <server...>`: the client
// configuration that puts the proxy in front of a server, for each client,
// with absolute paths (GUI clients start servers with a minimal PATH).
import { realpathSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

export interface InitInput {
  name: string;
  command: string;
  args: string[];
  policy: string | undefined;
}

export interface Resolved {
  binary: string;
  /** The server command made absolute, or as given when it is not on PATH (with a warning). */
  command: string;
  warnings: string[];
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** This binary's path: the PATH entry when it is this same file (stable across upgrades), else the executable itself. */
export function binaryPath(): string {
  const onPath = Bun.which("agent-receipts");
  return onPath !== null && sameFile(onPath, process.execPath) ? onPath : process.execPath;
}

export function resolvePaths(input: InitInput): Resolved {
  const warnings: string[] = [];
  let command = input.command;
  if (command.includes("/")) command = resolve(command);
  else {
    const found = Bun.which(command);
    if (found !== null) command = found;
    else warnings.push(`"${command}" is not on this shell's PATH; the snippets keep the bare name, which a GUI client may not find: give an absolute path`);
  }
  return { binary: binaryPath(), command, warnings };
}

/** A word for a POSIX shell, quoted only when it needs to be. */
function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** A TOML key: bare when it can be, else a quoted string. */
function tomlKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k);
}

export function snippets(input: InitInput, r: Resolved): string {
  const proxyArgs = ["mcp-proxy", "--name", input.name, ...(input.policy === undefined ? [] : ["--policy", isAbsolute(input.policy) ? input.policy : resolve(input.policy)]), "--", r.command, ...input.args];
  const entry = { command: r.binary, args: proxyArgs };
  const json = (v: unknown) => JSON.stringify(v, null, 2);
  const argsList = `[${proxyArgs.map((a) => JSON.stringify(a)).join(", ")}]`;
  return [
    "# Claude Code (run once; add --scope user to use it in every project)",
    `claude mcp add ${shellWord(input.name)} -- ${[r.binary, ...proxyArgs].map(shellWord).join(" ")}`,
    "",
    "# Claude Desktop: claude_desktop_config.json",
    json({ mcpServers: { [input.name]: entry } }),
    "",
    "# Codex: ~/.codex/config.toml",
    `[mcp_servers.${tomlKey(input.name)}]`,
    `command = ${JSON.stringify(r.binary)}`,
    `args = ${argsList}`,
    "",
    "# Cursor: ~/.cursor/mcp.json (or .cursor/mcp.json in a project)",
    json({ mcpServers: { [input.name]: entry } }),
    "",
    "# VS Code: .vscode/mcp.json",
    json({ servers: { [input.name]: { type: "stdio", ...entry } } }),
    "",
  ].join("\n");
}
