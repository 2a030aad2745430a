// Claude Code hook payload -> emitter event (pure mapping).
import { expect, test } from "bun:test";
import { HookPayloadError, mapClaudeCodeHook, responseError, splitToolName, TOOL_HOOK_EVENTS } from "../../src/hook/claude-code.ts";
import { omittedPayload } from "../../src/hook/omitted.ts";
import { payloadHash } from "../../src/receipt/canonical.ts";

const base = { session_id: "sess-1", transcript_path: "/home/u/.claude/t.jsonl", cwd: "/repo", tool_use_id: "toolu_01" };

test("PreToolUse -> pending with the input; session id and tool_use_id forwarded", () => {
  expect(mapClaudeCodeHook({ ...base, hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "ls" } })).toEqual({
    sessionId: "sess-1",
    event: { tool: { name: "Bash" }, decision: "pending", input: { command: "ls" }, correlationId: "toolu_01" },
  });
});

test("PostToolUse -> allowed with input and output", () => {
  const out = { stdout: "a\n", stderr: "", interrupted: false };
  expect(mapClaudeCodeHook({ ...base, hook_event_name: "PostToolUse", tool_name: "Bash", tool_input: { command: "ls" }, tool_response: out })!.event).toEqual({
    tool: { name: "Bash" }, decision: "allowed", input: { command: "ls" }, output: out, correlationId: "toolu_01",
  });
});

test("PostToolUse with an error response carries the error", () => {
  const response = { isError: true, content: [{ type: "text", text: "rate limited" }] };
  const mapped = mapClaudeCodeHook({ ...base, hook_event_name: "PostToolUse", tool_name: "mcp__gh__search", tool_input: {}, tool_response: response });
  expect(mapped!.event.error).toBe("rate limited");
  expect(mapped!.event.output).toEqual(response);
  expect(responseError({ is_error: true })).toBe("the tool reported an error");
  expect(responseError({ error: "ENOENT: no such file" })).toBe("ENOENT: no such file");
  expect(responseError({ error: null, ok: true })).toBeUndefined();
  expect(responseError("Error: text is not flagged")).toBeUndefined();
});

test("PostToolUseFailure -> allowed with the error", () => {
  const mapped = mapClaudeCodeHook({ ...base, hook_event_name: "PostToolUseFailure", tool_name: "Bash", tool_input: { command: "false" }, error: "exit code 1" });
  expect(mapped!.event).toEqual({ tool: { name: "Bash" }, decision: "allowed", input: { command: "false" }, error: "exit code 1", correlationId: "toolu_01" });
});

test("mcp__<server>__<tool> is split into server and name", () => {
  expect(splitToolName("mcp__github__create_issue")).toEqual({ server: "github", name: "create_issue" });
  expect(splitToolName("mcp__my_server__do__thing")).toEqual({ server: "my_server", name: "do__thing" });
  expect(splitToolName("mcp__broken")).toEqual({ name: "mcp__broken" });
  expect(splitToolName("Read")).toEqual({ name: "Read" });
});

test("file tools target the filesystem path", () => {
  const cases: Array<[string, Record<string, unknown>, string | undefined]> = [
    ["Read", { file_path: "/repo/a.ts" }, "/repo/a.ts"],
    ["Write", { file_path: "/repo/b.ts", content: "x" }, "/repo/b.ts"],
    ["Edit", { file_path: "/repo/c.ts", old_string: "a", new_string: "b" }, "/repo/c.ts"],
    ["MultiEdit", { file_path: "/repo/d.ts", edits: [] }, "/repo/d.ts"],
    ["NotebookEdit", { notebook_path: "/repo/n.ipynb" }, "/repo/n.ipynb"],
    ["Grep", { pattern: "x", path: "/repo/src" }, "/repo/src"],
    ["Grep", { pattern: "x" }, undefined],
    ["Bash", { command: "cat /etc/hosts" }, undefined],
    ["Read", { file_path: `/${"p".repeat(5000)}` }, undefined],
  ];
  for (const [tool, input, path] of cases) {
    const { event } = mapClaudeCodeHook({ ...base, hook_event_name: "PreToolUse", tool_name: tool, tool_input: input })!;
    expect(event.target).toEqual(path === undefined ? undefined : { system: "filesystem", resource: path });
  }
});

test("subagents: agent_id and agent_type", () => {
  const { event } = mapClaudeCodeHook({ ...base, hook_event_name: "PreToolUse", tool_name: "Read", tool_input: {}, agent_id: "a1b2", agent_type: "Explore" })!;
  expect(event.agentId).toBe("a1b2");
  expect(event.agentType).toBe("Explore");
});

test("other hook events are ignored; unusable payloads are errors", () => {
  expect(mapClaudeCodeHook({ ...base, hook_event_name: "Stop" })).toBeNull();
  expect(mapClaudeCodeHook({ ...base, hook_event_name: "UserPromptSubmit", prompt: "hi" })).toBeNull();
  expect(() => mapClaudeCodeHook([])).toThrow(HookPayloadError);
  expect(() => mapClaudeCodeHook({ hook_event_name: "PreToolUse", tool_name: "Read" })).toThrow(/session_id/);
  expect(() => mapClaudeCodeHook({ ...base, hook_event_name: "PreToolUse" })).toThrow(/tool_name/);
});

test("PermissionDenied -> denied with the reason as the error (the tool call did not run)", () => {
  const payload = { ...base, hook_event_name: "PermissionDenied", tool_name: "Bash", tool_input: { command: "rm -rf /" }, reason: "auto mode: destructive command" };
  expect(mapClaudeCodeHook(payload)!.event).toEqual({
    tool: { name: "Bash" }, decision: "denied", input: { command: "rm -rf /" }, error: "auto mode: destructive command", correlationId: "toolu_01",
  });
  const { reason: _r, ...noReason } = payload;
  expect(mapClaudeCodeHook(noReason)!.event.error).toBe("permission denied");
});

test("every tool hook event is mapped; TOOL_HOOK_EVENTS lists exactly those", () => {
  for (const kind of TOOL_HOOK_EVENTS) expect(mapClaudeCodeHook({ ...base, hook_event_name: kind, tool_name: "Read", tool_input: {} })).not.toBeNull();
  expect([...TOOL_HOOK_EVENTS].sort()).toEqual(["PermissionDenied", "PostToolUse", "PostToolUseFailure", "PreToolUse"]);
});

test("a payload too large for the frame is replaced by a stand-in holding the RFC 8785 hash of the original", () => {
  const output = { b: "x".repeat(10), a: [1, 2] };
  expect(omittedPayload(output)).toEqual({ omitted: "over the 1 MiB frame limit", sha256: payloadHash({ a: [1, 2], b: "x".repeat(10) }) });
  expect(omittedPayload({ n: Number.POSITIVE_INFINITY })).toEqual({ omitted: "not encodable as RFC 8785 JSON" });
});
