// Real MCP software on both sides of the compiled proxy: the official SDK's
// Client over StdioClientTransport, and the reference servers
// server-everything (echo, get-sum, a long-running operation with progress
// and cancellation, get-env) and server-filesystem (a multi-MB file read
// through the proxy arrives intact). Every call's receipts are present,
// paired, and the chain verifies.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { startDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { BINARY, tempDir } from "../helpers/fixtures.ts";
import { cleanEnv, expectedHash, verify } from "../daemon/support.ts";
import { byCorrelation, NODE, sessionReceipts, subject } from "./support.ts";

const require = createRequire(import.meta.url);
const EVERYTHING = join(require.resolve("@modelcontextprotocol/server-everything/package.json"), "..", "dist", "index.js");
const FILESYSTEM = join(require.resolve("@modelcontextprotocol/server-filesystem/package.json"), "..", "dist", "index.js");

let daemon: DaemonHandle;
beforeAll(async () => {
  daemon = await startDaemon();
});
afterAll(async () => {
  await daemon.stop("SIGKILL");
});

type ToolResult = { content: Array<{ type: string; text?: string }>; isError?: boolean };

async function connect(session: string, server: string[]): Promise<Client> {
  const transport = new StdioClientTransport({
    command: BINARY,
    args: ["mcp-proxy", "--session-id", session, "--grace-ms", "300", "--", ...server],
    env: cleanEnv({ AGENTRECEIPTS_SOCKET: daemon.socket, PROXY_TEST_MARKER: "passed-through" }),
    stderr: "ignore",
  });
  const client = new Client({ name: "agent-receipts-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

function pairs(session: string) {
  const calls = byCorrelation(sessionReceipts(daemon.db, session));
  for (const [, rs] of calls) expect(rs.map((r) => subject(r).outcome.status)[0]).toBe("pending");
  return calls;
}

test("SDK client -> proxy -> server-everything: echo, get-sum, progress, cancellation and get-env; every call pending + final, and it verifies", async () => {
  const session = "sdk-everything";
  const client = await connect(session, [NODE, EVERYTHING, "stdio"]);
  expect(client.getServerVersion()?.name).toBeString();

  const echo = (await client.callTool({ name: "echo", arguments: { message: "hello through the proxy" } })) as ToolResult;
  expect(echo.content[0]!.text).toContain("hello through the proxy");
  const sum = (await client.callTool({ name: "get-sum", arguments: { a: 2, b: 40 } })) as ToolResult;
  expect(sum.content[0]!.text).toContain("42");

  const progress: number[] = [];
  const long = (await client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 0.3, steps: 3 } }, undefined, {
    onprogress: (p) => progress.push(p.progress),
  })) as ToolResult;
  // Progress notifications reach the client (the SDK may drop the last one, which races the result).
  expect(progress.slice(0, 2)).toEqual([1, 2]);
  expect(long.content[0]!.text).toContain("Long running operation completed");

  const abort = new AbortController();
  const cancelled = client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 5, steps: 5 } }, undefined, { signal: abort.signal });
  setTimeout(() => abort.abort("the user stopped it"), 200);
  await expect(cancelled).rejects.toThrow();

  const env = (await client.callTool({ name: "get-env", arguments: {} })) as ToolResult;
  expect(JSON.parse(env.content[0]!.text!)).toMatchObject({ PROXY_TEST_MARKER: "passed-through" });
  await client.close();

  const calls = [...pairs(session).values()];
  expect(calls.map((rs) => rs[0]!.credentialSubject.action.tool_name)).toEqual(["echo", "get-sum", "trigger-long-running-operation", "trigger-long-running-operation", "get-env"]);
  expect(calls.map((rs) => rs.map((r) => subject(r).outcome.status))).toEqual([
    ["pending", "success"], ["pending", "success"], ["pending", "success"], ["pending", "failure"], ["pending", "success"],
  ]);
  expect(subject(calls[0]![1]!).outcome.response_hash).toBe(expectedHash(echo));
  expect(subject(calls[1]![0]!).action.parameters_hash).toBe(expectedHash({ a: 2, b: 40 }));
  expect(subject(calls[3]![1]!).outcome.error).toStartWith("cancelled by the client");
  expect(verify(daemon.db, daemon.publicKey).code).toBe(0);
});

// The SDK client reads messages of up to 10 MiB; the server sends the text twice (content and structuredContent).
test("SDK client -> proxy -> server-filesystem: a 3 MB file arrives intact; the receipt stands in for the output", async () => {
  const session = "sdk-filesystem";
  const dir = tempDir("ar-proxy-fs-");
  const lines: string[] = [];
  for (let i = 0, size = 0; size < 3_000_000; i++) {
    lines.push(`line ${i}: ${"é∑ quoted \"text\" \\ tab\t".repeat(8)}`);
    size += lines[i]!.length + 1;
  }
  const text = lines.join("\n");
  const file = join(dir, "big.txt");
  writeFileSync(file, text);
  const client = await connect(session, [NODE, FILESYSTEM, dir]);
  const read = (await client.callTool({ name: "read_text_file", arguments: { path: file } })) as ToolResult;
  expect(read.isError).toBeFalsy();
  expect(read.content[0]!.text === text).toBe(true);
  await client.close();
  const [call] = [...pairs(session).values()];
  expect(call!.map((r) => subject(r).outcome.status)).toEqual(["pending", "success"]);
  expect(subject(call![1]!).action.parameters_hash).toBe(expectedHash({ path: file }));
  expect(subject(call![1]!).action.type).toBe("mcp.secure-filesystem-server.read_text_file");
  // Over the 1 MiB frame limit: the frame carried a stand-in (size and SHA-256 of the line), not the result.
  expect(subject(call![1]!).outcome.response_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(subject(call![1]!).outcome.response_hash).not.toBe(expectedHash(read));
  expect(verify(daemon.db, daemon.publicKey).code).toBe(0);
});
