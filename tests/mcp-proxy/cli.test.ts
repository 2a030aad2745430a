// The mcp-proxy command line through the compiled binary: usage errors are
// one line with the fix (exit 2, nothing started), and `mcp-proxy init`
// prints working configuration for each client with absolute paths.
import { describe, expect, test } from "bun:test";
import { BINARY } from "../helpers/fixtures.ts";
import { runCli } from "../daemon/support.ts";

describe("usage", () => {
  const cases: Array<[string[], RegExp]> = [
    [["mcp-proxy"], /no MCP server command: give it after "--", as in: agent-receipts mcp-proxy \[options\] -- <command> \[args\.\.\.\]/],
    [["mcp-proxy", "--"], /no MCP server command/],
    [["mcp-proxy", "--name", "fs", "node", "server.js"], /unexpected argument "node" before "--": put the MCP server command after "--"/],
    [["mcp-proxy", "--grace-ms", "soon", "--", "true"], /--grace-ms must be a whole number of milliseconds from 0 to 600000 \(got "soon"\)/],
    [["mcp-proxy", "--name", "", "--", "true"], /--name must not be empty/],
    [["mcp-proxy", "--socket", "localhost:9000", "--", "true"], /--socket \(or AGENTRECEIPTS_SOCKET\) must be the path of a Unix socket \(never a TCP address\)/],
    [["mcp-proxy", "--nme", "x", "--", "true"], /unknown option "--nme"\. Did you mean "--name"\?/],
    [["mcp-proxy", "init", "--", "npx", "server"], /missing a word before "--"/],
  ];
  for (const [argv, message] of cases) {
    test(argv.join(" ") || "(none)", () => {
      const r = runCli(argv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    });
  }

  test("--help: the options, the init subcommand, and words after -- are the server's (its --help is not ours)", () => {
    const help = runCli(["mcp-proxy", "--help"]);
    expect(help.code).toBe(0);
    for (const s of ["--name", "--session-id", "--policy", "--grace-ms", "init", "-32060"]) expect(help.stdout).toContain(s);
    const passed = runCli(["mcp-proxy", "--", "sh", "-c", 'echo "server got: $*"', "sh", "--help", "--version"]);
    expect(passed.code).toBe(0);
    expect(passed.stdout).toBe("server got: --help --version\n");
  });
});

describe("init", () => {
  test("snippets for Claude Code, Claude Desktop, Codex, Cursor and VS Code, with this binary's and the server's absolute paths", () => {
    const r = runCli(["mcp-proxy", "init", "files", "--policy", "p.toml", "--", "node", "server.js", "--root", "/my dir"], {}, { cwd: "/tmp" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const node = Bun.which("node")!;
    const args = ["mcp-proxy", "--name", "files", "--policy", "/tmp/p.toml", "--", node, "server.js", "--root", "/my dir"];
    const blocks = r.stdout.split(/\n(?=# )/);
    expect(blocks.map((b) => b.split("\n")[0])).toEqual([
      "# Claude Code (run once; add --scope user to use it in every project)",
      "# Claude Desktop: claude_desktop_config.json",
      "# Codex: ~/.codex/config.toml",
      "# Cursor: ~/.cursor/mcp.json (or .cursor/mcp.json in a project)",
      "# VS Code: .vscode/mcp.json",
    ]);
    const body = (i: number) => blocks[i]!.split("\n").slice(1).join("\n");
    expect(body(0).trim()).toBe(`claude mcp add files -- ${BINARY} ${args.slice(0, -1).join(" ")} '/my dir'`);
    const entry = { command: BINARY, args };
    expect(JSON.parse(body(1))).toEqual({ mcpServers: { files: entry } });
    expect(Bun.TOML.parse(body(2))).toEqual({ mcp_servers: { files: entry } });
    expect(JSON.parse(body(3))).toEqual({ mcpServers: { files: entry } });
    expect(JSON.parse(body(4))).toEqual({ servers: { files: { type: "stdio", ...entry } } });
  });

  test("a server command that is not on PATH is kept, with a warning", () => {
    const r = runCli(["mcp-proxy", "init", "x", "--", "no-such-server-cmd"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('"no-such-server-cmd" is not on this shell\'s PATH');
    expect(r.stdout).toContain('"no-such-server-cmd"');
  });
});
