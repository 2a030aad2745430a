// What a short-lived emitter (emit, hook) reports per event: recorded only
// when the daemon confirmed the connection it went out on; unconfirmed (may
// still be recorded) when it reached the daemon without that; not delivered
// when it never did. Real Unix-socket listeners standing in for the daemon.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { Delivery } from "../../src/emit-cli/delivery.ts";
import { undeliveredMessage } from "../../src/emit-cli/messages.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { TestListener, type ListenerOptions } from "./listener.ts";

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function listener(opts: ListenerOptions = {}): Promise<TestListener> {
  const l = await TestListener.start(undefined, opts);
  cleanup.push(() => l.stop());
  return l;
}

const send = (d: Delivery, name: string) => d.send((em) => em.emitFrame({ tool: { name }, decision: "allowed" }));

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

test("no daemon: not delivered, and the message says so with how to start it", async () => {
  const socketPath = join(tempDir("ar-deliv-"), "events.sock");
  const d = new Delivery({ channel: "cli", socketPath });
  await send(d, "a");
  const report = await d.finish(100);
  expect(report.statuses).toEqual(["not_delivered"]);
  const message = undeliveredMessage(report, { socketPath, confirmTimeoutMs: 100, retryHint: "RETRY" });
  expect(message).toStartWith(`not delivered: no daemon socket at ${socketPath} (ENOENT). Is the daemon running?`);
  // Nothing reached the daemon, so a plain retry cannot duplicate: no retry advice.
  expect(message).not.toContain("RETRY");
});

test("a daemon that does not confirm in time: unconfirmed, 'it may still be recorded', never 'no daemon'", async () => {
  const l = await listener({ confirm: false });
  const d = new Delivery({ channel: "cli", socketPath: l.path });
  await send(d, "a");
  await send(d, "b");
  const report = await d.finish(100);
  expect(report.statuses).toEqual(["unconfirmed", "unconfirmed"]);
  expect(l.frames().length).toBe(2);
  const message = undeliveredMessage(report, { socketPath: l.path, confirmTimeoutMs: 100, lines: [3, 4], retryHint: "RETRY" });
  expect(message).toBe(`lines 3-4 reached the daemon at ${l.path} but were not confirmed within 100 ms (they may still be recorded). ` +
    "The daemon is running but stalled or overloaded: see its log. RETRY");
  expect(message).not.toMatch(/no daemon|Is the daemon running/);
});

test("the confirmation covers the last connection only: an event sent on a connection lost before it is unconfirmed", async () => {
  const l = await listener();
  const d = new Delivery({ channel: "cli", socketPath: l.path });
  await send(d, "a");
  await l.waitForFrames(1);
  // The daemon side drops the first connection while the emitter is idle; the next event opens a new one.
  l.connections[0]!.socket.destroy();
  await until("the emitter to notice the loss", () => !d.emitter.connected);
  await send(d, "b");
  const report = await d.finish(1000);
  expect(l.connections.length).toBe(2);
  expect(report.confirmed).toBe(true);
  expect(report.statuses).toEqual(["unconfirmed", "recorded"]);
  expect(undeliveredMessage(report, { socketPath: l.path, confirmTimeoutMs: 1000 }))
    .toStartWith(`the daemon at ${l.path} closed the connection without confirming that it committed 1 of 2 events. It may not accept this user`);
});

test("a daemon that closes the connection on its own (a refused user): unconfirmed, with the refusal hint", async () => {
  const l = await listener();
  const d = new Delivery({ channel: "cli", socketPath: l.path });
  await send(d, "a");
  await l.waitForFrames(1);
  l.connections[0]!.socket.destroy();
  await until("the emitter to notice the close", () => !d.emitter.connected);
  const report = await d.finish(1000);
  expect(report.statuses).toEqual(["unconfirmed"]);
  const message = undeliveredMessage(report, { socketPath: l.path, confirmTimeoutMs: 1000 });
  expect(message).toBe(`the daemon at ${l.path} closed the connection without confirming that it committed the event. ` +
    "It may not accept this user: its log then shows connection_refused (see allow_uids/allow_groups), or it was stopping (then it may still be recorded).");
});
