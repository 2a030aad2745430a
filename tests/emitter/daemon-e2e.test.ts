// The emitter library against the real daemon from the compiled binary
// (`npm run build` first): Node.js through the package export, daemon down,
// restarted and stopped with SIGSTOP, and concurrent large payloads.
import { afterEach, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_MAX_QUEUE_BYTES, Emitter, type EmitEvent } from "../../src/emitter/index.ts";
import { payloadHash } from "../../src/receipt/canonical.ts";
import { startDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { ROOT, tempDir } from "../helpers/fixtures.ts";
import { chainProblems, readReceipts, verify, waitFor, type Row } from "../daemon/support.ts";

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function daemon(dir?: string): Promise<DaemonHandle> {
  const d = await startDaemon(dir === undefined ? {} : { dir });
  cleanup.push(async () => {
    if (d.proc.signalCode === null && d.proc.exitCode === null) d.proc.kill("SIGCONT");
    await d.stop();
  });
  return d;
}

function bunEmitter(socketPath: string, extra: Partial<ConstructorParameters<typeof Emitter>[0]> = {}): Emitter {
  const em = new Emitter({ channel: "sdk", socketPath, ...extra });
  cleanup.push(() => em.close());
  return em;
}

function ofSession(db: string, session: string): Row[] {
  return readReceipts(db).filter((r) => r.receipt.issuer.session_id === session);
}

const live = (rows: Row[]) => rows.filter((r) => r.receipt.credentialSubject.action.type !== "agent_receipts.events_dropped");
const dropCounts = (rows: Row[]) => rows.flatMap((r) => r.receipt.credentialSubject.action.emitter_metadata?.drop_count ?? []);

function event(i: number, extra: Partial<EmitEvent> = {}): EmitEvent {
  return { tool: { name: "read_file" }, decision: "allowed", input: { i }, correlationId: `c-${i}`, ...extra };
}

/** A Node.js project whose node_modules/agent-receipts-emitter is packages/emitter: imports resolve through its `exports`. */
function nodeProject(script: string): string {
  const dir = tempDir("ar-node-");
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(join(ROOT, "packages", "emitter"), join(dir, "node_modules", "agent-receipts-emitter"));
  writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
  writeFileSync(join(dir, "emit.mjs"), script);
  return join(dir, "emit.mjs");
}

function runNode(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve) => {
    const p = spawn("node", [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("exit", (code) => resolve({ code, stdout, stderr, pid: p.pid! }));
  });
}

test("Node.js, importing agent-receipts-emitter: events land and verify, with the Node process's pid", async () => {
  const d = await daemon();
  const script = nodeProject(`
    import { Emitter } from "agent-receipts-emitter";
    const em = new Emitter({ channel: "sdk", socketPath: process.argv[2] });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await em.emit({ tool: { name: "read_file", server: "fs" }, decision: "allowed", input: { i, pid: process.pid }, output: { ok: i } }));
    const confirmed = await em.close({ confirm: true, timeoutMs: 5000 });
    console.log(JSON.stringify({ pid: process.pid, session: em.sessionId, results, confirmed, version: process.version }));
  `);
  const r = await runNode(script, [d.socket]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { pid: number; session: string; results: boolean[]; confirmed: boolean; version: string };
  expect(out.version.startsWith("v20.")).toBe(true);
  expect(out.results).toEqual([true, true, true, true, true]);
  expect(out.confirmed).toBe(true);
  // Confirmed means committed: the receipts are there without waiting.
  const rows = ofSession(d.db, out.session);
  expect(rows.length).toBe(5);
  rows.forEach((row, i) => {
    const action = row.receipt.credentialSubject.action;
    expect(action.type).toBe("sdk.fs.read_file");
    expect(action.peer_credential?.pid).toBe(out.pid);
    expect(action.peer_credential?.exe_path).toBe(realpathSync(Bun.which("node")!));
    expect(action.parameters_hash).toBe(payloadHash({ i, pid: out.pid }));
    expect(row.receipt.credentialSubject.outcome.response_hash).toBe(payloadHash({ ok: i }));
  });
  const v = verify(d.db, d.publicKey);
  expect(v.code).toBe(0);
  expect(v.report.valid).toBe(true);
});

test("Node.js: an idle emitter does not hold the process open (no close() needed to exit)", async () => {
  const d = await daemon();
  const script = nodeProject(`
    import { Emitter } from "agent-receipts-emitter";
    const em = new Emitter({ channel: "sdk", socketPath: process.argv[2] });
    const ok = await em.emit({ tool: { name: "t" }, decision: "allowed" });
    const t0 = performance.now();
    process.on("exit", () => console.log(JSON.stringify({ ok, lingeredMs: performance.now() - t0 })));
  `);
  const r = await runNode(script, [d.socket]);
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { ok: boolean; lingeredMs: number };
  expect(out.ok).toBe(true);
  expect(out.lingeredMs).toBeLessThan(50);
});

test("daemon down: emit() resolves false within the bound; once it starts, events_dropped with the exact count, then the live receipt", async () => {
  const dir = tempDir("ar-daemon-");
  const socket = join(dir, "run", "events.sock");
  const em = bunEmitter(socket);
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    expect(await em.emit(event(i))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(25);
  }
  expect(em.dropped).toBe(4);
  const d = await daemon(dir);
  expect(d.socket).toBe(socket);
  expect(await em.emit(event(4))).toBe(true);
  expect(await em.close({ confirm: true, timeoutMs: 5000 })).toBe(true);
  const rows = readReceipts(d.db);
  expect(rows.map((r) => r.receipt.credentialSubject.action.type)).toEqual(["agent_receipts.events_dropped", "sdk.read_file"]);
  expect(rows[0]!.receipt.credentialSubject.action.emitter_metadata).toEqual({ drop_count: 4 });
  expect(rows[0]!.receipt.issuer.session_id).toBe(em.sessionId);
  expect(rows[1]!.receipt.credentialSubject.action.parameters_hash).toBe(payloadHash({ i: 4 }));
  expect(rows[1]!.receipt.credentialSubject.action.emitter_metadata).toBeUndefined();
  expect(rows[1]!.sequence).toBe(rows[0]!.sequence + 1);
  expect(verify(d.db, d.publicKey).code).toBe(0);
});

test("daemon restarted between two emits: both land with the same session_id", async () => {
  const dir = tempDir("ar-daemon-");
  const first = await startDaemon({ dir });
  const em = bunEmitter(first.socket);
  expect(await em.emit(event(1))).toBe(true);
  await waitFor("first receipt", () => live(ofSession(first.db, em.sessionId)).length, (n) => n === 1);
  expect(await first.stop()).toBe(0);
  const second = await daemon(dir);
  expect(await em.emit(event(2))).toBe(true);
  expect(await em.close({ confirm: true, timeoutMs: 5000 })).toBe(true);
  const rows = ofSession(second.db, em.sessionId);
  expect(rows.map((r) => r.receipt.credentialSubject.action.parameters_hash)).toEqual([payloadHash({ i: 1 }), payloadHash({ i: 2 })]);
  expect(new Set(rows.map((r) => r.receipt.issuer.session_id))).toEqual(new Set([em.sessionId]));
  expect(em.dropped).toBe(0);
  expect(verify(second.db, second.publicKey).code).toBe(0);
});

test("daemon stopped with SIGSTOP during 10,000 emits: each returns within the bound, memory stays bounded; after SIGCONT new events land and the drops are recorded", async () => {
  const d = await daemon();
  const em = bunEmitter(d.socket);
  expect(await em.emit(event(-1))).toBe(true);
  d.proc.kill("SIGSTOP");
  let slowest = 0;
  let handed = 0;
  let maxQueued = 0;
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < 10_000; i++) {
    const t0 = performance.now();
    if (await em.emit(event(i, { output: { pad: "o".repeat(200) } }))) handed++;
    slowest = Math.max(slowest, performance.now() - t0);
    maxQueued = Math.max(maxQueued, em.queuedBytes);
  }
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  // The bounds are 25 ms (connect) and 100 ms (write); allow for timer lateness only.
  expect(slowest).toBeLessThan(100 + 50);
  expect(maxQueued).toBeLessThanOrEqual(DEFAULT_MAX_QUEUE_BYTES);
  expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);
  expect(em.dropped).toBe(10_000 - handed);
  expect(em.dropped).toBeGreaterThan(0);

  d.proc.kill("SIGCONT");
  expect(await em.emit(event(10_000))).toBe(true);
  expect(await em.close({ confirm: true, timeoutMs: 10_000 })).toBe(true);
  // Frames handed over on earlier connections are committed too, in their own time.
  const expectedLive = 1 + handed + 1;
  const rows = await waitFor("every handed-over event", () => ofSession(d.db, em.sessionId), (r) => live(r).length >= expectedLive, 30_000);
  await Bun.sleep(200);
  const final = ofSession(d.db, em.sessionId);
  expect(live(final).length).toBe(expectedLive);
  expect(rows.length).toBeGreaterThan(0);
  // Every call was either delivered or counted, and every count reached the chain.
  expect(dropCounts(final).reduce((a, b) => a + b, 0)).toBe(em.dropped);
  expect(em.unreportedDrops).toBe(0);
  const last = live(final).find((r) => r.receipt.credentialSubject.correlation_id === "c-10000");
  expect(last?.receipt.credentialSubject.action.parameters_hash).toBe(payloadHash({ i: 10_000 }));
  expect(chainProblems(readReceipts(d.db))).toEqual([]);
  expect(verify(d.db, d.publicKey).code).toBe(0);
}, 120_000);

test("8 concurrent emit() calls with 200 KB payloads: every receipt's parameters_hash matches its own payload", async () => {
  const d = await daemon();
  const em = bunEmitter(d.socket);
  const payloads = [...Array(8).keys()].map((i) => ({ i, blob: String.fromCharCode(65 + i).repeat(200 * 1024) }));
  const results = await Promise.all(payloads.map((input, i) => em.emit(event(i, { input }))));
  expect(results).toEqual(Array(8).fill(true));
  expect(await em.close({ confirm: true, timeoutMs: 5000 })).toBe(true);
  const rows = ofSession(d.db, em.sessionId);
  expect(rows.length).toBe(8);
  for (const row of rows) {
    const i = Number(String(row.receipt.credentialSubject.correlation_id).slice(2));
    expect(row.receipt.credentialSubject.action.parameters_hash).toBe(payloadHash(payloads[i]));
  }
  expect(d.logs().filter((l) => l.event === "framing_error" || l.event === "frame_rejected")).toEqual([]);
});
