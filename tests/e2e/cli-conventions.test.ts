// Command-line conventions of every command, through the compiled binary:
// colour only on a terminal, help within 80 columns, one-line errors with
// "did you mean", strict arguments (no silently ignored words), negative
// numbers as values, --version everywhere.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, ROOT } from "../helpers/fixtures.ts";

const ANSI = /\x1b\[/;
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env })) if (v !== undefined) merged[k] = v;
  const r = spawnSync(BINARY, args, { encoding: "utf8", env: merged, input: "" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every command path, discovered from the help output itself. */
function commandPaths(): string[][] {
  const paths: string[][] = [];
  const walk = (path: string[]) => {
    paths.push(path);
    const help = cli([...path, "--help"]).stdout;
    const section = help.split("Commands:\n")[1]?.split("\n\n")[0];
    if (section === undefined) return;
    for (const line of section.split("\n")) {
      const name = /^ {2}([a-z][a-z-]*)\b/.exec(line)?.[1];
      if (name) walk([...path, name]);
    }
  };
  walk([]);
  return paths;
}

const PATHS = commandPaths();

describe("help", () => {
  test("the tree is discovered from --help (every command and subcommand)", () => {
    const names = PATHS.map((p) => p.join(" "));
    for (const expected of ["daemon", "emit", "verify", "keys init", "keys show", "hook claude-code", "service install"]) expect(names).toContain(expected);
  });

  test("every --help fits 80 columns, has no trailing spaces, no ANSI when piped, and names the full command", () => {
    for (const path of PATHS) {
      const r = cli([...path, "--help"]);
      expect({ path, code: r.code, stderr: r.stderr }).toEqual({ path, code: 0, stderr: "" });
      for (const line of r.stdout.split("\n")) {
        expect({ path, line, long: line.length > 80 }).toEqual({ path, line, long: false });
        expect({ path, line, trailing: /\s$/.test(line) }).toEqual({ path, line, trailing: false });
      }
      expect(r.stdout).not.toMatch(ANSI);
      expect(r.stdout).not.toContain("<command>");
      expect(r.stdout).toContain(`Usage: ${["agent-receipts", ...path].join(" ")}`);
    }
  });

  test("colour: NO_COLOR and --no-color win over FORCE_COLOR; FORCE_COLOR colours a pipe; TERM=dumb is plain", () => {
    expect(cli(["--help"], { FORCE_COLOR: "1" }).stdout).toMatch(ANSI);
    expect(cli(["--help", "--no-color"], { FORCE_COLOR: "1" }).stdout).not.toMatch(ANSI);
    expect(cli(["--help"], { FORCE_COLOR: "1", NO_COLOR: "1" }).stdout).not.toMatch(ANSI);
    expect(cli(["--help"], { TERM: "dumb" }).stdout).not.toMatch(ANSI);
    expect(cli(["verify", "--help"], { NO_COLOR: "" , FORCE_COLOR: "0" }).stdout).not.toMatch(ANSI);
  });

  const script = spawnSync("sh", ["-c", "command -v script"]).status === 0;
  test.skipIf(!script)("on a terminal, help wraps to its width (script(1) gives a 60-column pty)", () => {
    const r = spawnSync("script", ["-qec", `stty cols 60; ${BINARY} emit --help`, "/dev/null"], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    const lines = r.stdout.replace(/\r/g, "").split("\n").filter((l) => l !== "");
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(lines.some((l) => l.length > 50)).toBe(true);
  });
});

describe("errors are one line, exit 2", () => {
  const oneLine = (r: { code: number | null; stdout: string; stderr: string }) => {
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toContain("<command>");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  };

  test("a mistyped command or subcommand suggests the right one", () => {
    const top = cli(["verfy"]);
    oneLine(top);
    expect(top.stderr).toContain('Did you mean "verify"?');
    const sub = cli(["keys", "shwo"]);
    oneLine(sub);
    expect(sub.stderr).toContain('Did you mean "show"?');
  });

  test("a mistyped option suggests the right one", () => {
    const r = cli(["emit", "--tol", "x"]);
    oneLine(r);
    expect(r.stderr).toContain('Did you mean "--tool"?');
  });

  test("unexpected words are refused by every command that takes none", () => {
    for (const args of [["emit", "--tool", "x", "extra", "positional"], ["verify", "somefile"], ["keys", "show", "x"], ["daemon", "now"], ["service", "status", "x"]]) {
      const r = cli(args, { AGENTRECEIPTS_SOCKET: "/nonexistent/ar.sock" });
      oneLine(r);
      expect(r.stderr).toContain("unexpected argument");
    }
  });

  test("a negative number is a value, checked by the command", () => {
    const r = cli(["emit", "--timeout-ms", "-5", "--tool", "x"]);
    oneLine(r);
    expect(r.stderr).toContain("--timeout-ms");
    expect(r.stderr).not.toContain("unknown option");
  });

  test("a flag without its value, or given twice, is named", () => {
    const missing = cli(["verify", "--db"]);
    oneLine(missing);
    expect(missing.stderr).toContain("--db needs a value");
    const twice = cli(["emit", "--tool", "a", "--tool", "b"]);
    oneLine(twice);
    expect(twice.stderr).toContain("--tool is given more than once");
  });
});

test("--version is accepted on every command and equals package.json's version", () => {
  for (const path of PATHS) {
    const r = cli([...path, "--version"]);
    expect({ path, code: r.code, out: r.stdout }).toEqual({ path, code: 0, out: `${VERSION}\n` });
  }
  expect(cli(["-v"]).stdout).toBe(`${VERSION}\n`);
});
