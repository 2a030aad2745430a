// Every event the emitter library sends carries an idempotency_key (the
// caller's, else a fresh UUID v4) and the caller can learn it, so that a
// retry of an unconfirmed event is recognisable as the same event.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { Emitter, EmitTransportError, type EmitEvent } from "../../src/emitter/index.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { TestListener } from "./listener.ts";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const EVENT: EmitEvent = { tool: { name: "read_file" }, decision: "allowed", input: { path: "/etc/hosts" } };

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function listener(): Promise<TestListener> {
  const l = await TestListener.start();
  cleanup.push(() => l.stop());
  return l;
}

function emitter(socketPath: string, strict = false): Emitter {
  const em = new Emitter({ channel: "sdk", socketPath, strict });
  cleanup.push(() => em.close());
  return em;
}

test("an event without a key gets a fresh UUID v4 per event; a given key is sent unchanged", async () => {
  const l = await listener();
  const em = emitter(l.path);
  await em.emit(EVENT);
  await em.emit(EVENT);
  await em.emit({ ...EVENT, idempotencyKey: "retry-of-42" });
  await em.emitFrame({ tool: { name: "raw" }, decision: "allowed" });
  await em.emitFrame({ tool: { name: "raw" }, decision: "allowed", idempotency_key: "raw-key" });
  const keys = (await l.waitForFrames(5)).map((f) => f.idempotency_key as string);
  expect(keys[0]).toMatch(UUID_V4);
  expect(keys[1]).toMatch(UUID_V4);
  expect(keys[0]).not.toBe(keys[1]);
  expect(keys[2]).toBe("retry-of-42");
  expect(keys[3]).toMatch(UUID_V4);
  expect(keys[4]).toBe("raw-key");
});

test("emitWithKey tells the key it sent, delivered or not", async () => {
  const l = await listener();
  const em = emitter(l.path);
  const sent = await em.emitWithKey(EVENT);
  expect(sent.delivered).toBe(true);
  expect(sent.idempotencyKey).toMatch(UUID_V4);
  expect((await l.waitForFrames(1))[0]!.idempotency_key).toBe(sent.idempotencyKey);
  expect(await em.emitWithKey({ ...EVENT, idempotencyKey: "mine" })).toEqual({ delivered: true, idempotencyKey: "mine" });

  const down = emitter(join(tempDir("ar-idem-"), "none.sock"));
  const dropped = await down.emitWithKey(EVENT);
  expect(dropped.delivered).toBe(false);
  expect(dropped.idempotencyKey).toMatch(UUID_V4);
});

test("strict mode: the EmitTransportError carries the event's key, for a retry with the same key", async () => {
  const em = emitter(join(tempDir("ar-idem-"), "none.sock"), true);
  const err = await em.emit({ ...EVENT, idempotencyKey: "k-strict" }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(EmitTransportError);
  expect((err as EmitTransportError).idempotencyKey).toBe("k-strict");
  const drawn = await em.emit(EVENT).then(() => null, (e: unknown) => e);
  expect((drawn as EmitTransportError).idempotencyKey).toMatch(UUID_V4);
});
