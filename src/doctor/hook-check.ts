// Is Claude Code set up to record its tool calls? Its hooks live in the
// user's ~/.claude/settings.json and the project's .claude/settings.json; an
// entry must run `<binary> hook claude-code`, and that binary must exist. An
// "env" block there that points AGENTRECEIPTS_SOCKET elsewhere than the daemon
// is the field's most common failure, so it is checked too.
import { accessSync, constants, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fail, ok, warn, type CheckResult } from "./check.ts";
import type { DoctorContext } from "./context.ts";

const HOOK_EVENTS = ["PreToolUse", "PostToolUse", "PostToolUseFailure"] as const;

interface Settings {
  hooks?: Record<string, Array<{ hooks?: Array<{ type?: unknown; command?: unknown }> }>>;
  env?: Record<string, unknown>;
}

interface Found {
  file: string;
  event: string;
  command: string;
}

/** The first word of a shell command, without quotes. */
function program(command: string): string {
  const m = /^\s*(?:"([^"]*)"|'([^']*)'|(\S+))/.exec(command);
  return m?.[1] ?? m?.[2] ?? m?.[3] ?? "";
}

/** Where the program runs from, or null when it does not exist (relative commands resolve on PATH, as a shell would). */
function locate(prog: string, cwd: string): string | null {
  const path = prog.includes("/") ? (isAbsolute(prog) ? prog : resolve(cwd, prog)) : Bun.which(prog);
  if (path === null) return null;
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

function readSettings(file: string): Settings | string | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? null : `cannot read ${file}: ${(err as Error).message}`;
  }
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Settings) : `${file} is not a JSON object`;
  } catch (err) {
    return `${file} is not valid JSON (${(err as Error).message}): Claude Code ignores it`;
  }
}

function hooksIn(file: string, s: Settings): Found[] {
  const found: Found[] = [];
  for (const event of HOOK_EVENTS) {
    const groups = s.hooks?.[event];
    if (!Array.isArray(groups)) continue;
    for (const g of groups) {
      for (const h of Array.isArray(g?.hooks) ? g.hooks : []) {
        if (typeof h?.command === "string" && /\bhook\s+claude-code\b/.test(h.command)) found.push({ file, event, command: h.command });
      }
    }
  }
  return found;
}

export function hookCheck(ctx: DoctorContext): CheckResult {
  const files = [join(ctx.home, ".claude", "settings.json"), join(ctx.cwd, ".claude", "settings.json")];
  const found: Found[] = [];
  for (const file of [...new Set(files)]) {
    const s = readSettings(file);
    if (s === null) continue;
    if (typeof s === "string") return fail("claude_code_hook", s, `fix ${file} (it must be one JSON object)`);
    const socket = s.env?.AGENTRECEIPTS_SOCKET;
    const daemon = ctx.found.daemon;
    if (typeof socket === "string" && socket !== "" && daemon !== null && resolve(socket) !== resolve(daemon.socket)) {
      return fail("claude_code_hook", `${file} sets AGENTRECEIPTS_SOCKET=${socket} for Claude Code, but the daemon listens on ${daemon.socket}`,
        `set "AGENTRECEIPTS_SOCKET": "${daemon.socket}" in the "env" block of ${file}`);
    }
    found.push(...hooksIn(file, s));
  }
  const example = `${process.execPath} hook claude-code`;
  if (found.length === 0) {
    return warn("claude_code_hook", `no "hook claude-code" entry in ${files.join(" or ")}: Claude Code's tool calls are not recorded (fine if you do not use it)`,
      `add PreToolUse and PostToolUse hooks running "${example}" (README, "Claude Code")`);
  }
  for (const f of found) {
    const prog = program(f.command);
    if (locate(prog, ctx.cwd) === null) {
      return fail("claude_code_hook", `the ${f.event} hook in ${f.file} runs "${f.command}", but ${prog} ${prog.includes("/") ? "does not exist or is not executable" : "is not on PATH"}`,
        `use the full path in the command: "${example}"`);
    }
  }
  const events = [...new Set(found.map((f) => f.event))];
  if (!events.includes("PostToolUse")) {
    return warn("claude_code_hook", `only ${events.join(", ")} is hooked (${found[0]!.file}): outcomes are not recorded`, `add the same hook under "PostToolUse"`);
  }
  return ok("claude_code_hook", `${events.join(", ")} run ${program(found[0]!.command)} hook claude-code (${[...new Set(found.map((f) => f.file))].join(", ")})`);
}
