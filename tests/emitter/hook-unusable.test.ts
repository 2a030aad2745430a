// recordUnusableInvocation: a hook invocation that cannot record its event
// (a mistyped flag, an unusable payload) still leaves a trace in the drop
// files, and exits under the --strict rules (0 and a warning, or 2 and the
// reason). Real files in a temporary data dir.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { DropFile } from "../../src/emit-cli/drop-file.ts";
import { recordUnusableInvocation } from "../../src/hook/unusable.ts";
import { tempDir } from "../helpers/fixtures.ts";

const payload = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ hook_event_name: "PreToolUse", session_id: "sess-typo", tool_name: "Bash", tool_input: { command: "ls" }, ...extra });

function dirs() {
  const dataDir = join(tempDir("ar-unusable-"), "agent-receipts");
  return {
    dataDir,
    session: DropFile.forSession(dataDir, "claude-code", "sess-typo"),
    unknown: DropFile.forUnknownSession(dataDir, "claude-code"),
  };
}

test("a tool event: counted as dropped in its session's file; exit 0 with a warning naming the reason and the file", () => {
  const { dataDir, session, unknown } = dirs();
  const verdict = recordUnusableInvocation('unknown option "--strcit"', payload(), { dataDir, strict: false });
  expect(verdict.exitCode).toBe(0);
  expect(verdict.stderr).toBe(
    `agent-receipts: warning: unknown option "--strcit"; the event was not recorded and is counted as dropped in ${session.path} (the next delivered event reports it)\n`,
  );
  expect(session.peek()).toBe(1);
  recordUnusableInvocation("again", payload({ hook_event_name: "PermissionDenied" }), { dataDir, strict: false });
  expect(session.peek()).toBe(2);
  expect(unknown.peek()).toBe(0);
});

test("--strict fails closed: exit 2 with the reason, and the drop is counted all the same", () => {
  const { dataDir, session } = dirs();
  const verdict = recordUnusableInvocation('unknown option "--strcit"', payload(), { dataDir, strict: true });
  expect(verdict.exitCode).toBe(2);
  expect(verdict.stderr).toStartWith('agent-receipts: unknown option "--strcit"; the event was not recorded');
  expect(session.peek()).toBe(1);
});

test("a payload without a usable session (not JSON, no session_id): counted in the unknown-session file", () => {
  const { dataDir, session, unknown } = dirs();
  recordUnusableInvocation("bad flag", "not json at all", { dataDir, strict: false });
  recordUnusableInvocation("bad flag", "", { dataDir, strict: false });
  recordUnusableInvocation("bad flag", JSON.stringify({ hook_event_name: "PostToolUse", tool_name: "Read" }), { dataDir, strict: false });
  expect(unknown.peek()).toBe(3);
  expect(session.peek()).toBe(0);
});

test("another hook event (nothing would have been recorded): no drop; --strict still exits 2", () => {
  const { dataDir, session, unknown } = dirs();
  const stop = JSON.stringify({ hook_event_name: "Stop", session_id: "sess-typo" });
  expect(recordUnusableInvocation("bad flag", stop, { dataDir, strict: false })).toEqual({ exitCode: 0, stderr: "agent-receipts: warning: bad flag\n" });
  expect(recordUnusableInvocation("bad flag", stop, { dataDir, strict: true })).toEqual({ exitCode: 2, stderr: "agent-receipts: bad flag\n" });
  expect(session.peek() + unknown.peek()).toBe(0);
});
