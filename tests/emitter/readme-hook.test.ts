// The README's Claude Code settings snippet is complete and works: every
// hook event it lists is one the hook handles (and every one the hook
// handles is listed), the command is an absolute path, the system socket is
// set; and each command, run as written (with the binary under test in place
// of the placeholder path) against a real daemon, records its event.
import { afterEach, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { TOOL_HOOK_EVENTS } from "../../src/hook/claude-code.ts";
import { startDaemon } from "../helpers/daemon.ts";
import { BINARY, ROOT, tempDir } from "../helpers/fixtures.ts";
import { cleanEnv, readReceipts } from "../daemon/support.ts";

interface Settings {
  env?: Record<string, string>;
  hooks: Record<string, Array<{ matcher: string; hooks: Array<{ type: string; command: string }> }>>;
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** The first ```json block of the README's Claude Code section. */
function readmeSettings(): Settings {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("### Claude Code");
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf("\n## ", start));
  const block = /```json\n([\s\S]*?)\n```/.exec(section);
  expect(block).not.toBeNull();
  return JSON.parse(block![1]!) as Settings;
}

const PROGRAM = /^(\/\S+) hook claude-code$/;

test("the README's settings list exactly the hook events the hook handles, with an absolute command and the system socket", () => {
  const settings = readmeSettings();
  expect(Object.keys(settings.hooks).sort()).toEqual([...TOOL_HOOK_EVENTS].sort());
  for (const entries of Object.values(settings.hooks)) {
    for (const entry of entries) {
      expect(entry.matcher).toBe("*");
      for (const h of entry.hooks) {
        expect(h.type).toBe("command");
        expect(h.command).toMatch(PROGRAM);
      }
    }
  }
  expect(isAbsolute(settings.env?.AGENTRECEIPTS_SOCKET ?? "")).toBe(true);
});

test("each command of the README's settings, run as written, records its event through the real daemon", async () => {
  const d = await startDaemon();
  cleanup.push(() => d.stop());
  const settings = readmeSettings();
  const base = { session_id: "s-readme", tool_name: "Bash", tool_input: { command: "make" }, tool_use_id: "toolu_r", cwd: "/repo", transcript_path: "/t.jsonl" };
  const payloads: Record<string, object> = {
    PreToolUse: base,
    PostToolUse: { ...base, tool_response: { stdout: "ok", stderr: "" } },
    PostToolUseFailure: { ...base, error: "exit code 2" },
    PermissionDenied: { ...base, reason: "denied by rule Bash(make:*)" },
  };
  for (const [event, entries] of Object.entries(settings.hooks)) {
    const command = entries[0]!.hooks[0]!.command.replace(PROGRAM.exec(entries[0]!.hooks[0]!.command)![1]!, BINARY);
    // Claude Code runs the command through a shell, with the settings' env on top of its own.
    const env = cleanEnv({ ...settings.env, AGENTRECEIPTS_SOCKET: d.socket, XDG_DATA_HOME: tempDir("ar-readme-") });
    const r = spawnSync("/bin/sh", ["-c", command], { input: JSON.stringify({ ...payloads[event], hook_event_name: event }), env, encoding: "utf8" });
    expect({ event, code: r.status, stderr: r.stderr }).toEqual({ event, code: 0, stderr: "" });
  }
  expect(readReceipts(d.db).map((r) => r.receipt.credentialSubject.outcome.status)).toEqual(["pending", "success", "failure", "failure"]);
});
