// The emitter library against a real Unix-socket listener (no mocks): lazy
// single connection, frame contents, caller bugs, drop accounting, bounds,
// stalls, reconnects, concurrency and the half-close confirmation.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Emitter, EmitTransportError, EmitValidationError, type EmitEvent, type EmitterOptions } from "../../src/emitter/index.ts";
import { isRfc3339 } from "../../src/protocol/frame-schema.ts";
import { MAX_FRAME_BYTES } from "../../src/protocol/framing.ts";
import { tempDir } from "../helpers/fixtures.ts";
import { TestListener } from "./listener.ts";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const EVENT: EmitEvent = { tool: { name: "read_file" }, decision: "allowed", input: { path: "/etc/hosts" } };

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function listener(path?: string, opts?: Parameters<typeof TestListener.start>[1]): Promise<TestListener> {
  const l = await TestListener.start(path, opts);
  cleanup.push(() => l.stop());
  return l;
}

function emitter(options: Partial<EmitterOptions> & { socketPath: string }): Emitter {
  const em = new Emitter({ channel: "sdk", ...options });
  cleanup.push(() => em.close());
  return em;
}

function deadSocket(): string {
  return join(tempDir("ar-emit-dead-"), "events.sock");
}

async function timed<T>(p: Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await p;
  return { value, ms: performance.now() - t0 };
}

describe("connection", () => {
  test("connects lazily, then carries every frame over one connection", async () => {
    const l = await listener();
    const em = emitter({ socketPath: l.path });
    await Bun.sleep(20);
    expect(l.connections.length).toBe(0);
    for (let i = 0; i < 50; i++) expect(await em.emit({ ...EVENT, input: { i } })).toBe(true);
    const frames = await l.waitForFrames(50);
    expect(l.connections.length).toBe(1);
    expect(frames.map((f) => (f.input as { i: number }).i)).toEqual([...Array(50).keys()]);
  });

  test("frames carry the protocol fields, the mapped event fields and one session id", async () => {
    const l = await listener();
    const em = emitter({ socketPath: l.path, issuer: { name: "my-agent", model: "m-1" }, operator: { id: "op-1", name: "Ops" } });
    expect(em.sessionId).toMatch(UUID_V4);
    await em.emit({
      tool: { name: "create_issue", server: "github" }, decision: "denied", input: { a: 1 }, output: [1, "x"], error: "nope",
      actionType: "vcs.create", correlationId: "c-1", idempotencyKey: "k-1", agentId: "sub-1", agentType: "Explore", model: "m-2",
      usage: { tokens: 3 }, captureMethod: "sdk", target: { system: "github", resource: "org/repo" },
    });
    await em.emit(EVENT);
    const [first, second] = await l.waitForFrames(2);
    expect(isRfc3339(first!.ts_emit as string)).toBe(true);
    const { ts_emit: _ts, ...rest } = first!;
    expect(rest).toEqual({
      v: "1", session_id: em.sessionId, channel: "sdk", tool: { name: "create_issue", server: "github" }, decision: "denied",
      input: { a: 1 }, output: [1, "x"], usage: { tokens: 3 }, error: "nope", action_type: "vcs.create",
      issuer_name: "my-agent", issuer_model: "m-1", operator_id: "op-1", operator_name: "Ops", idempotency_key: "k-1", correlation_id: "c-1",
      agent_id: "sub-1", agent_type: "Explore", model: "m-2", capture_method: "sdk", target_system: "github", target_resource: "org/repo",
    });
    expect(second!.session_id).toBe(em.sessionId);
    expect("drop_count" in second!).toBe(false);
  });

  test("a host-provided session id is used unchanged", async () => {
    const l = await listener();
    const em = emitter({ socketPath: l.path, sessionId: "host-session-42" });
    expect(em.sessionId).toBe("host-session-42");
    await em.emit(EVENT);
    expect((await l.waitForFrames(1))[0]!.session_id).toBe("host-session-42");
  });

  test("reconnects after the daemon restarts, keeping the session id", async () => {
    const first = await TestListener.start();
    const em = emitter({ socketPath: first.path });
    expect(await em.emit({ ...EVENT, input: { n: 1 } })).toBe(true);
    await first.waitForFrames(1);
    await first.stop();
    await Bun.sleep(20);
    const second = await listener(first.path);
    expect(await em.emit({ ...EVENT, input: { n: 2 } })).toBe(true);
    const [frame] = await second.waitForFrames(1);
    expect(frame!.input).toEqual({ n: 2 });
    expect(frame!.session_id).toBe(first.frames()[0]!.session_id as string);
    expect(em.dropped).toBe(0);
  });

  test("without a socketPath option, each new connection resolves the socket again (a daemon that appears elsewhere later is found)", async () => {
    const saved = process.env.AGENTRECEIPTS_SOCKET;
    const first = await listener();
    try {
      process.env.AGENTRECEIPTS_SOCKET = first.path;
      const em = new Emitter({ channel: "sdk" });
      cleanup.push(() => em.close());
      expect(await em.emit({ ...EVENT, input: { n: 1 } })).toBe(true);
      await first.waitForFrames(1);
      await first.stop();
      await Bun.sleep(20);
      const second = await listener();
      process.env.AGENTRECEIPTS_SOCKET = second.path;
      expect(await em.emit({ ...EVENT, input: { n: 2 } })).toBe(true);
      expect(em.socketPath).toBe(second.path);
      const [frame] = await second.waitForFrames(1);
      expect(frame!.input).toEqual({ n: 2 });
    } finally {
      if (saved === undefined) delete process.env.AGENTRECEIPTS_SOCKET;
      else process.env.AGENTRECEIPTS_SOCKET = saved;
    }
  });

  test("concurrent large emits each land whole, never interleaved", async () => {
    const l = await listener();
    const em = emitter({ socketPath: l.path });
    const payload = (i: number) => ({ i, blob: String.fromCharCode(97 + i).repeat(200 * 1024) });
    const results = await Promise.all([...Array(8).keys()].map((i) => em.emit({ ...EVENT, input: payload(i) })));
    expect(results).toEqual(Array(8).fill(true));
    const frames = await l.waitForFrames(8);
    expect(l.connections.length).toBe(1);
    expect(l.connections[0]!.framingError).toBeNull();
    expect(frames.map((f) => f.input).sort((a, b) => (a as { i: number }).i - (b as { i: number }).i)).toEqual([...Array(8).keys()].map(payload));
  });
});

function deep(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe("caller bugs reject at once with a TypeError naming the field", () => {
  const big = "x".repeat(MAX_FRAME_BYTES);
  const cases: Array<[string, unknown, string]> = [
    ["missing tool name", { tool: {}, decision: "allowed" }, "tool.name"],
    ["empty tool name", { tool: { name: "" }, decision: "allowed" }, "tool.name"],
    ["no tool", { decision: "allowed" }, "tool"],
    ["unknown decision", { tool: { name: "t" }, decision: "maybe" }, "decision"],
    ["NaN in input", { tool: { name: "t" }, decision: "allowed", input: { a: Number.NaN } }, "input"],
    ["Infinity in output", { tool: { name: "t" }, decision: "allowed", output: [Number.POSITIVE_INFINITY] }, "output"],
    ["-Infinity in usage", { tool: { name: "t" }, decision: "allowed", usage: { n: Number.NEGATIVE_INFINITY } }, "usage"],
    ["frame over 1 MiB", { tool: { name: "t" }, decision: "allowed", input: big }, "input"],
    ["output over 1 MiB", { tool: { name: "t" }, decision: "allowed", input: 1, output: { big } }, "output"],
    ["over-long correlationId", { tool: { name: "t" }, decision: "allowed", correlationId: "c".repeat(257) }, "correlationId"],
    ["over-long agentId", { tool: { name: "t" }, decision: "allowed", agentId: "a".repeat(257) }, "agentId"],
    ["over-long idempotencyKey (multi-byte)", { tool: { name: "t" }, decision: "allowed", idempotencyKey: "é".repeat(129) }, "idempotencyKey"],
    ["over-long model", { tool: { name: "t" }, decision: "allowed", model: "m".repeat(300) }, "model"],
    ["agentId with a slash", { tool: { name: "t" }, decision: "allowed", agentId: "a/b" }, "agentId"],
    ["over-long target resource", { tool: { name: "t" }, decision: "allowed", target: { system: "fs", resource: "/".repeat(4097) } }, "target.resource"],
    ["target without resource", { tool: { name: "t" }, decision: "allowed", target: { system: "fs" } }, "target.resource"],
    ["error not a string", { tool: { name: "t" }, decision: "allowed", error: 42 }, "error"],
    ["event not an object", null, "event"],
    ["input nested deeper than 1000 levels", { tool: { name: "t" }, decision: "allowed", input: deep(1001) }, "input"],
    ["usage nested absurdly deep", { tool: { name: "t" }, decision: "allowed", input: deep(1000), usage: { u: deep(30_000) } }, "usage"],
  ];
  for (const [name, event, field] of cases) {
    test(name, async () => {
      const path = deadSocket();
      const em = emitter({ socketPath: path, strict: true });
      const t0 = performance.now();
      const err = await em.emit(event as EmitEvent).then(() => null, (e: unknown) => e);
      expect(performance.now() - t0).toBeLessThan(50);
      expect(err).toBeInstanceOf(TypeError);
      expect(err).toBeInstanceOf(EmitValidationError);
      expect((err as EmitValidationError).field).toBe(field);
      expect((err as Error).message.startsWith(field)).toBe(true);
      // A caller bug is not a drop: nothing was lost in transport.
      expect(em.dropped).toBe(0);
    });
  }

  test("a frame of exactly 1 MiB is allowed", async () => {
    const l = await listener();
    const em = emitter({ socketPath: l.path });
    const probe = JSON.stringify({
      v: "1", ts_emit: new Date().toISOString(), session_id: em.sessionId, channel: "sdk", tool: { name: "t" }, decision: "allowed", input: "", idempotency_key: "k-1",
    });
    const input = "y".repeat(MAX_FRAME_BYTES - Buffer.byteLength(probe));
    expect(await em.emit({ tool: { name: "t" }, decision: "allowed", input, idempotencyKey: "k-1" })).toBe(true);
    const [frame] = await l.waitForFrames(1);
    expect(Buffer.byteLength(JSON.stringify(frame))).toBe(MAX_FRAME_BYTES);
  });

  test("bad options throw from the constructor, naming the option", () => {
    const bad: Array<[Partial<EmitterOptions>, string]> = [
      [{ channel: "" }, "channel"],
      [{ sessionId: "" }, "sessionId"],
      [{ socketPath: "localhost:9000" }, "socketPath"],
      [{ socketPath: "tcp://127.0.0.1:7" }, "socketPath"],
      [{ connectTimeoutMs: 0 }, "connectTimeoutMs"],
      [{ writeTimeoutMs: Number.NaN }, "writeTimeoutMs"],
      [{ maxQueueBytes: 10 }, "maxQueueBytes"],
      [{ operator: { id: "x".repeat(300) } }, "operator.id"],
      [{ issuer: { name: "n".repeat(257) } }, "issuer.name"],
      [{ initialDropCount: -1 }, "initialDropCount"],
    ];
    for (const [opts, field] of bad) {
      let err: unknown;
      try {
        new Emitter({ channel: "sdk", socketPath: deadSocket(), ...opts });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(EmitValidationError);
      expect((err as EmitValidationError).field).toBe(field);
    }
  });

  test("emit after close rejects", async () => {
    const em = emitter({ socketPath: deadSocket() });
    await em.close();
    await expect(em.emit(EVENT)).rejects.toBeInstanceOf(TypeError);
  });
});

describe("transport failures", () => {
  test("no daemon: resolves false within the connect bound and counts the drop", async () => {
    const em = emitter({ socketPath: deadSocket() });
    for (let i = 1; i <= 5; i++) {
      const { value, ms } = await timed(em.emit(EVENT));
      expect(value).toBe(false);
      expect(ms).toBeLessThan(25);
      expect(em.dropped).toBe(i);
      expect(em.unreportedDrops).toBe(i);
    }
  });

  test("strict mode rejects with EmitTransportError, still counting the drop", async () => {
    const path = deadSocket();
    const em = emitter({ socketPath: path, strict: true });
    const err = await em.emit(EVENT).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(EmitTransportError);
    expect(err).not.toBeInstanceOf(TypeError);
    expect((err as EmitTransportError).kind).toBe("connect_failed");
    expect((err as EmitTransportError).code).toBe("ENOENT");
    expect((err as EmitTransportError).socketPath).toBe(path);
    expect((err as Error).message).toContain(path);
    expect(em.dropped).toBe(1);
  });

  test("the drop count rides on the next delivered frame, once", async () => {
    const path = deadSocket();
    const em = emitter({ socketPath: path });
    for (let i = 0; i < 3; i++) expect(await em.emit(EVENT)).toBe(false);
    const l = await listener(path);
    expect(await em.emit({ ...EVENT, input: { n: 1 } })).toBe(true);
    expect(await em.emit({ ...EVENT, input: { n: 2 } })).toBe(true);
    const [first, second] = await l.waitForFrames(2);
    expect(first!.drop_count).toBe(3);
    expect("drop_count" in second!).toBe(false);
    expect(em.dropped).toBe(3);
    expect(em.unreportedDrops).toBe(0);
  });

  test("initialDropCount (drops of an earlier process) is reported on the first frame", async () => {
    const l = await listener();
    const em = emitter({ socketPath: l.path, initialDropCount: 7 });
    expect(em.unreportedDrops).toBe(7);
    await em.emit(EVENT);
    expect((await l.waitForFrames(1))[0]!.drop_count).toBe(7);
    expect(em.dropped).toBe(0);
  });

  test("a count carried by a frame that is cut off is restored, plus that frame, and the cut frame never reaches the daemon", async () => {
    const path = deadSocket();
    const em = emitter({ socketPath: path, writeTimeoutMs: 150 });
    expect(await em.emit(EVENT)).toBe(false);
    expect(await em.emit(EVENT)).toBe(false);
    const stalled = await listener(path, { stalled: true });
    // Far more than the kernel buffers: the frame is partly written when the write bound expires.
    const pending = em.emit({ ...EVENT, input: "z".repeat(900 * 1024) });
    await Bun.sleep(20);
    expect(em.unreportedDrops).toBe(2); // carried, not yet cleared
    const { value, ms } = await timed(pending);
    expect(value).toBe(false);
    expect(ms).toBeLessThan(150 + 60);
    expect(em.dropped).toBe(3);
    expect(em.unreportedDrops).toBe(3);
    stalled.resume();
    await Bun.sleep(50);
    expect(stalled.frames()).toEqual([]);
    expect(stalled.connections[0]!.framingError?.kind).toBe("truncated_body");
  });

  test("a stalled daemon: a burst settles within the write bound, the queue stays bounded, overflow is dropped", async () => {
    const l = await listener(undefined, { stalled: true });
    const maxQueueBytes = 2 * 1024 * 1024;
    const em = emitter({ socketPath: l.path, maxQueueBytes, writeTimeoutMs: 100 });
    let maxQueued = 0;
    const pad = "p".repeat(10 * 1024);
    const settledAt: number[] = [];
    const pending = [...Array(2000).keys()].map((i) => {
      const p = em.emit({ ...EVENT, input: { i, pad } }).then((ok) => ((settledAt[i] = performance.now()), ok));
      maxQueued = Math.max(maxQueued, em.queuedBytes);
      return p;
    });
    // Measured from when the caller gives the event loop back: the connect and write bounds, plus timer lateness.
    const burstEnd = performance.now();
    const results = await Promise.all(pending);
    expect(Math.max(...settledAt) - burstEnd).toBeLessThan(25 + 100 + 60);
    expect(maxQueued).toBeLessThanOrEqual(maxQueueBytes);
    const handed = results.filter(Boolean).length;
    expect(handed).toBeGreaterThan(0); // what the kernel took before the stall
    expect(em.dropped).toBe(2000 - handed);
    expect(em.queuedBytes).toBe(0);
    // Everything handed over arrives whole once the daemon reads again; nothing else does.
    l.resume();
    const frames = await l.waitForFrames(handed);
    await Bun.sleep(50);
    expect(frames.length).toBe(handed);
  });

  test("a stalled daemon: sequential emits each return within the write bound", async () => {
    const l = await listener(undefined, { stalled: true });
    const em = emitter({ socketPath: l.path, writeTimeoutMs: 50 });
    let slowest = 0;
    let delivered = 0;
    for (let i = 0; i < 400; i++) {
      const { value, ms } = await timed(em.emit({ ...EVENT, input: { i, pad: "q".repeat(4096) } }));
      slowest = Math.max(slowest, ms);
      if (value) delivered++;
    }
    expect(slowest).toBeLessThan(50 + 60);
    expect(em.dropped).toBe(400 - delivered);
    expect(em.dropped).toBeGreaterThan(0);
    l.resume();
    await l.waitForFrames(delivered);
    await Bun.sleep(50);
    // The first delivered frame after each loss carries the drops so far: together they account for every drop but the latest.
    const reported = l.frames().reduce((n, f) => n + (f.drop_count ?? 0), 0);
    expect(reported + em.unreportedDrops).toBe(em.dropped);
  });
});

describe("close", () => {
  test("confirm: half-closes and resolves true when the daemon closes the connection", async () => {
    const l = await listener();
    const em = emitter({ socketPath: l.path });
    await em.emit(EVENT);
    expect(await em.close({ confirm: true, timeoutMs: 1000 })).toBe(true);
    expect(l.connections[0]!.ended).toBe(true);
  });

  test("confirm: resolves false within the bound when the daemon does not close", async () => {
    const l = await listener(undefined, { confirm: false });
    const em = emitter({ socketPath: l.path });
    await em.emit(EVENT);
    const { value, ms } = await timed(em.close({ confirm: true, timeoutMs: 100 }));
    expect(value).toBe(false);
    expect(ms).toBeGreaterThanOrEqual(95);
    expect(ms).toBeLessThan(200);
  });

  test("confirm with nothing sent resolves true at once; close is idempotent", async () => {
    const em = emitter({ socketPath: deadSocket() });
    const { value, ms } = await timed(em.close({ confirm: true }));
    expect(value).toBe(true);
    expect(ms).toBeLessThan(20);
    expect(await em.close()).toBe(true);
  });

  test("close waits for pending emits to settle", async () => {
    const l = await listener();
    const em = emitter({ socketPath: l.path });
    const pending = [em.emit(EVENT), em.emit(EVENT), em.emit(EVENT)];
    expect(await em.close({ confirm: true })).toBe(true);
    expect(await Promise.all(pending)).toEqual([true, true, true]);
    expect(l.frames().length).toBe(3);
  });
});
