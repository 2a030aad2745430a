// A refused connect says "no daemon" only when nothing listens. A listener
// that is alive but stalled (SIGSTOP) with a full queue of pending
// connections also refuses (EAGAIN, which Bun reports as ECONNREFUSED): the
// emitter must say the daemon is stalled, not absent. Real processes, real
// sockets.
import { afterEach, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, symlinkSync } from "node:fs";
import type { Socket } from "node:net";
import { dirname, join } from "node:path";
import { Emitter, EmitTransportError } from "../../src/emitter/index.ts";
import { unixSocketListening } from "../../src/emitter/listening.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { fillBacklog } from "./backlog.ts";

const BIND_AND_HANG = join(import.meta.dir, "..", "daemon", "fixtures", "bind-and-hang.mjs");
const NODE = Bun.which("node") ?? "/usr/bin/node";

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A separate process listening on `path` (it accepts while running). */
async function hangingListener(path: string): Promise<ChildProcess> {
  const proc = spawn(NODE, [BIND_AND_HANG, path], { stdio: ["ignore", "pipe", "inherit"] });
  cleanup.push(() => {
    proc.kill("SIGCONT");
    proc.kill("SIGKILL");
  });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.once("data", () => resolve());
    proc.once("exit", (code) => reject(new Error(`listener exited with ${code}`)));
  });
  return proc;
}

/** The stopped listener's queue of pending connections, full: held until the test ends. */
async function fullBacklog(path: string): Promise<Socket[]> {
  const held: Socket[] = [];
  cleanup.push(() => held.forEach((s) => s.destroy()));
  await fillBacklog(path, held);
  return held;
}

async function refusal(path: string): Promise<EmitTransportError> {
  const em = new Emitter({ channel: "sdk", socketPath: path, strict: true });
  cleanup.push(() => em.close());
  const err = await em.emit({ tool: { name: "t" }, decision: "allowed" }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(EmitTransportError);
  return err as EmitTransportError;
}

test("a stalled listener with a full backlog: 'not accepting connections' (EAGAIN), never 'no daemon'", async () => {
  const path = join(tempDir("ar-refused-"), "events.sock");
  const proc = await hangingListener(path);
  proc.kill("SIGSTOP");
  await fullBacklog(path);
  expect(unixSocketListening(path)).toBe(true);
  const err = await refusal(path);
  expect(err.kind).toBe("connect_failed");
  expect(err.code).toBe("EAGAIN");
  expect(err.message).toContain("is not accepting connections");
  expect(err.message).toContain("stalled or overloaded");
  expect(err.message).not.toContain("no daemon");
  // The same listener seen through a symlinked directory.
  const link = join(tempDir("ar-refused-link-"), "dir");
  symlinkSync(dirname(path), link);
  expect(unixSocketListening(join(link, "events.sock"))).toBe(true);
});

test("a socket file nobody listens on any more: 'no daemon listening' (ECONNREFUSED)", async () => {
  const path = join(tempDir("ar-refused-"), "events.sock");
  const proc = await hangingListener(path);
  expect(unixSocketListening(path)).toBe(true);
  proc.kill("SIGKILL");
  await new Promise((resolve) => proc.once("exit", resolve));
  expect(existsSync(path)).toBe(true);
  expect(unixSocketListening(path)).toBe(false);
  const err = await refusal(path);
  expect(err.code).toBe("ECONNREFUSED");
  expect(err.message).toBe(`no daemon listening at ${path} (ECONNREFUSED: the socket file is left over)`);
});
