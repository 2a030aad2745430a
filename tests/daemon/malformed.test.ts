// Every malformed input of docs/protocol.md §2/§3 sent by a separate process to the
// compiled daemon: no receipt, no consumed sequence, the daemon stays up, a
// payload error drops only that frame (the same connection keeps working), a
// framing error closes only that connection, and the log names the field.
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { expectedHash, killSenders, chainProblems, readReceipts, runSender, spawnSender, validFrame, verify, waitFor, type Json, type Step } from "./support.ts";

setDefaultTimeout(30_000);

const MIB = 1024 * 1024;
const CHAIN = "malformed";
const SECRET = "SECRET-PAYLOAD-MARKER-7f3a";

let d: DaemonHandle;
/** Receipts the test expects so far; every valid frame must take sequence expected + 1. */
let expected = 0;
/** Receipts in the chain when the current test started (each test re-reads it, so one failure does not cascade). */
let atStart = 0;
let marker = 0;

beforeAll(async () => {
  d = await startDaemon({ args: ["--chain-id", CHAIN] });
});
afterAll(async () => {
  killSenders();
  await d.stop("SIGKILL");
});
beforeEach(() => {
  atStart = readReceipts(d.db, CHAIN).length;
  expected = atStart;
});

function framed(body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

const b64 = (b: Buffer) => b.toString("base64");

function base(extra: Record<string, Json> = {}, drop: string[] = []): Record<string, Json> {
  const f: Record<string, Json> = { ...validFrame("bad-frame", 0, { input: { secret: SECRET } }), ...extra };
  for (const k of drop) delete f[k];
  return f;
}

function frameText(extra: Record<string, Json> = {}, drop: string[] = []): string {
  return JSON.stringify(base(extra, drop));
}

/** The valid frame that must land right after a bad one. */
function nextGood(): { frame: Record<string, Json>; session: string } {
  const session = `good-${++marker}`;
  return { frame: validFrame(session, marker), session };
}

/** Checks that exactly one new receipt, from `session`, took the next sequence, linked to the previous one. */
function expectLanded(session: string): void {
  expected++;
  const rows = readReceipts(d.db, CHAIN);
  expect(rows).toHaveLength(expected);
  expect(chainProblems(rows)).toEqual([]);
  const last = rows.at(-1)!;
  expect(last.sequence).toBe(expected);
  expect(last.receipt.issuer.session_id).toBe(session);
  expect(rows.slice(atStart).filter((r) => r.receipt.issuer.session_id === "bad-frame")).toEqual([]);
}

function expectAlive(): void {
  expect(d.proc.exitCode).toBeNull();
  expect(d.proc.signalCode).toBeNull();
}

function rejectedLogs(): Array<Record<string, unknown>> {
  return d.logs().filter((l) => l.event === "frame_rejected");
}

function framingLogs(): Array<Record<string, unknown>> {
  return d.logs().filter((l) => l.event === "framing_error");
}

/** Sends `bad` (already framed) then a valid frame on the same connection, half-closes, waits for the daemon's close. */
async function payloadCase(bad: Buffer, fields: string[]): Promise<void> {
  const before = rejectedLogs().length;
  const good = nextGood();
  const r = await runSender("node", d.socket, {
    steps: [{ op: "raw", b64: b64(bad) }, { op: "frames", frames: [good.frame], mode: "each" }, { op: "end" }, { op: "waitClose" }],
  });
  // Closed by the daemon's orderly close after the commit, not by an error.
  expect(r.lines.find((l) => "closed" in l)).toMatchObject({ closed: true, by: "end" });
  expect(r.lines.at(-1)).toMatchObject({ done: true, sent: 1, writeError: null });
  expectLanded(good.session);
  expectAlive();
  const logs = rejectedLogs().slice(before);
  expect(logs).toHaveLength(1);
  expect(fields).toContain(logs[0]!.field as string);
  expect(typeof logs[0]!.rule).toBe("string");
  expect(logs[0]!.pid).toBe(r.pid);
  expect(d.stderr()).not.toContain(SECRET);
}

const text = (s: string) => framed(Buffer.from(s, "utf8"));
const over = (n: number) => "x".repeat(n);
/** 257 bytes in 129 characters: the limit is bytes, not characters. */
const overMultibyte = "é".repeat(129);

const payloadCases: Array<[string, Buffer, string[]]> = [
  ["not JSON", text(`{"v":"1","session_id":"${SECRET}",`), ["(frame)"]],
  ["JSON array, not an object", text(`[1,2,"${SECRET}"]`), ["(frame)"]],
  ["JSON string, not an object", text(`"${SECRET}"`), ["(frame)"]],
  ["JSON null", text("null"), ["(frame)"]],
  ["invalid UTF-8 (0xff)", framed(Buffer.concat([Buffer.from(frameText().slice(0, -1)), Buffer.from(`,"x":"\xff"}`, "latin1")])), ["(frame)"]],
  ["invalid UTF-8 (encoded surrogate ED A0 80)", framed(Buffer.concat([Buffer.from(frameText().slice(0, -1)), Buffer.from([0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d])])), ["(frame)"]],
  ["invalid UTF-8 (truncated sequence C3)", framed(Buffer.concat([Buffer.from(frameText().slice(0, -1)), Buffer.from([0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d])])), ["(frame)"]],
  ["v missing", text(frameText({}, ["v"])), ["v"]],
  ["v is the number 1", text(frameText({ v: 1 })), ["v"]],
  ["v is \"2\"", text(frameText({ v: "2" })), ["v"]],
  ["ts_emit missing", text(frameText({}, ["ts_emit"])), ["ts_emit"]],
  ["ts_emit not RFC 3339", text(frameText({ ts_emit: "yesterday" })), ["ts_emit"]],
  ["ts_emit month 13", text(frameText({ ts_emit: "2026-13-01T00:00:00Z" })), ["ts_emit"]],
  ["ts_emit February 30 (RFC 3339 §5.7: the day must exist in that month)", text(frameText({ ts_emit: "2026-02-30T00:00:00Z" })), ["ts_emit"]],
  ["ts_emit without a time zone", text(frameText({ ts_emit: "2026-01-01T00:00:00" })), ["ts_emit"]],
  ["session_id missing", text(frameText({}, ["session_id"])), ["session_id"]],
  ["session_id empty", text(frameText({ session_id: "" })), ["session_id"]],
  ["session_id a number", text(frameText({ session_id: 7 })), ["session_id"]],
  ["channel missing", text(frameText({}, ["channel"])), ["channel"]],
  ["channel empty", text(frameText({ channel: "" })), ["channel"]],
  ["tool missing", text(frameText({}, ["tool"])), ["tool"]],
  ["tool a string", text(frameText({ tool: "read_file" })), ["tool"]],
  ["tool.name missing", text(frameText({ tool: { server: "fs" } })), ["tool.name"]],
  ["tool.name empty", text(frameText({ tool: { name: "" } })), ["tool.name"]],
  ["tool.server a number", text(frameText({ tool: { name: "t", server: 5 } })), ["tool.server"]],
  ["decision missing", text(frameText({}, ["decision"])), ["decision"]],
  ["decision unknown", text(frameText({ decision: "maybe" })), ["decision"]],
  ["decision wrong case", text(frameText({ decision: "ALLOWED" })), ["decision"]],
  ["drop_count negative", text(frameText({ drop_count: -1 })), ["drop_count"]],
  ["drop_count not an integer", text(frameText({ drop_count: 1.5 })), ["drop_count"]],
  ["drop_count a string", text(frameText({ drop_count: "3" })), ["drop_count"]],
  ["drop_count beyond safe integers", text(frameText({ drop_count: 1e300 })), ["drop_count"]],
  ["1e400 in input", text(`{"v":"1","ts_emit":"2026-01-01T00:00:00Z","session_id":"bad-frame","channel":"sdk","tool":{"name":"t"},"decision":"allowed","input":{"a":[1,{"b":1e400}],"s":"${SECRET}"}}`), ["input"]],
  ["-1e400 in output", text(`{"v":"1","ts_emit":"2026-01-01T00:00:00Z","session_id":"bad-frame","channel":"sdk","tool":{"name":"t"},"decision":"allowed","output":-1e400}`), ["output"]],
  ["1e400 in usage", text(`{"v":"1","ts_emit":"2026-01-01T00:00:00Z","session_id":"bad-frame","channel":"sdk","tool":{"name":"t"},"decision":"allowed","usage":{"tokens":1e400}}`), ["usage"]],
  ["lone surrogate in input", text(`{"v":"1","ts_emit":"2026-01-01T00:00:00Z","session_id":"bad-frame","channel":"sdk","tool":{"name":"t"},"decision":"allowed","input":{"k":"\\ud800"}}`), ["input"]],
  ["lone surrogate in session_id", text(`{"v":"1","ts_emit":"2026-01-01T00:00:00Z","session_id":"bad\\udc00","channel":"sdk","tool":{"name":"t"},"decision":"allowed"}`), ["session_id"]],
  ["error a number", text(frameText({ error: 5 })), ["error"]],
  ["action_type a number", text(frameText({ action_type: 5 })), ["action_type"]],
  ...(["issuer_name", "issuer_model", "operator_id", "idempotency_key", "correlation_id", "agent_id", "agent_type", "model", "capture_method"] as const).map(
    (k): [string, Buffer, string[]] => [`${k} of 257 bytes`, text(frameText({ [k]: over(257) })), [k]],
  ),
  ["operator_name of 257 bytes", text(frameText({ operator_id: "op", operator_name: over(257) })), ["operator_name"]],
  ["target_system of 257 bytes", text(frameText({ target_system: over(257), target_resource: "/r" })), ["target_system"]],
  ["issuer_name of 257 bytes in 129 two-byte characters", text(frameText({ issuer_name: overMultibyte })), ["issuer_name"]],
  ["agent_type a number", text(frameText({ agent_type: 3 })), ["agent_type"]],
  ["target_resource of 4097 bytes", text(frameText({ target_system: "fs", target_resource: over(4097) })), ["target_resource"]],
  ["agent_id with /", text(frameText({ agent_id: "a/b" })), ["agent_id"]],
  ["agent_id with NUL", text(frameText({ agent_id: "a\u0000b" })), ["agent_id"]],
  ["agent_id of only /", text(frameText({ agent_id: "/" })), ["agent_id"]],
  ["target_system without target_resource", text(frameText({ target_system: "fs" })), ["target_system", "target_resource"]],
  ["target_resource without target_system", text(frameText({ target_resource: "/etc/passwd" })), ["target_system", "target_resource"]],
  ["operator_name without operator_id", text(frameText({ operator_name: "Ops" })), ["operator_name"]],
];

describe("payload errors: the frame is dropped, the connection and the chain carry on", () => {
  test.each(payloadCases)("%s", async (_name, bad, fields) => {
    await payloadCase(bad, fields);
  });

  test("bad and good frames interleaved in one write: only the good ones land, consecutively", async () => {
    const g1 = nextGood();
    const g2 = nextGood();
    const bytes = Buffer.concat([
      text(frameText({ v: "2" })),
      text(JSON.stringify(g1.frame)),
      text("{not json"),
      text(frameText({ decision: "nope" })),
      text(JSON.stringify(g2.frame)),
    ]);
    const before = rejectedLogs().length;
    await runSender("bun", d.socket, { steps: [{ op: "raw", b64: b64(bytes) }, { op: "end" }, { op: "waitClose" }] });
    expected++;
    expectLanded(g2.session);
    const rows = readReceipts(d.db, CHAIN);
    expect(rows.at(-2)!.receipt.issuer.session_id).toBe(g1.session);
    expect(rejectedLogs().slice(before).map((l) => l.field)).toEqual(["v", "(frame)", "decision"]);
  });
});

describe("limits that must still be accepted", () => {
  test("256-byte fields, 4096-byte target_resource, drop_count 0 and unknown keys are accepted", async () => {
    const session = `limits-${++marker}`;
    const frame = validFrame(session, 0, {
      issuer_name: over(256), issuer_model: over(256), operator_id: over(256), operator_name: over(256), idempotency_key: over(256),
      correlation_id: over(256), agent_type: over(256), model: over(256), capture_method: over(256),
      target_system: "é".repeat(128), target_resource: over(4096), drop_count: 0, some_future_key: { x: 1 },
    });
    await runSender("node", d.socket, { steps: [{ op: "frames", frames: [frame], mode: "each" }, { op: "end" }, { op: "waitClose" }] });
    expectLanded(session);
    const r = readReceipts(d.db, CHAIN).at(-1)!.receipt;
    expect(r.credentialSubject.action.target).toEqual({ system: "é".repeat(128), resource: over(4096) });
    expect(JSON.stringify(r)).not.toContain("some_future_key");
  });
});

/** Starts a witness connection, runs the bad sender, then checks the witness connection still works. */
async function framingCase(steps: Step[], kind: string, landedFromBad = 0): Promise<void> {
  const witness = nextGood();
  const w = spawnSender("bun", d.socket, { steps: [{ op: "waitStdin" }, { op: "frames", frames: [witness.frame], mode: "each" }, { op: "end" }, { op: "waitClose" }] });
  await w.hello; // connected before the bad sender starts
  const before = framingLogs().length;
  const exits = steps.at(-1)!.op === "exit";
  const r = await runSender("node", d.socket, { steps: exits ? steps : [...steps, { op: "waitClose" }] });
  if (!exits) expect(r.lines.find((l) => "closed" in l)).toMatchObject({ closed: true });
  await waitFor("the framing error log", () => framingLogs().length, (n) => n > before);
  const logs = framingLogs().slice(before);
  expect(logs).toHaveLength(1);
  expect(logs[0]!.kind).toBe(kind);
  expect(logs[0]!.pid).toBe(r.pid);
  // No receipt from the bad connection beyond its complete frames, nothing consumed.
  expected += landedFromBad;
  await waitFor("the complete frames of the bad connection", () => readReceipts(d.db, CHAIN).length, (n) => n >= expected);
  expect(readReceipts(d.db, CHAIN)).toHaveLength(expected);
  expectAlive();
  // The witness connection, open all along, still works and takes the next sequence.
  w.proc.stdin!.write("go\n");
  expect(await w.exited).toBe(0);
  expect(w.lines().find((l) => "closed" in l)).toMatchObject({ closed: true, by: "end" });
  expectLanded(witness.session);
}

describe("framing errors: that connection is closed, others and the chain are untouched", () => {
  const header = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n, 0);
    return b;
  };
  const valid = () => text(JSON.stringify(validFrame("bad-frame", 0)));

  test("zero length (a valid frame behind it on the same connection is not read)", async () => {
    await framingCase([{ op: "raw", b64: b64(Buffer.concat([header(0), valid()])) }], "zero_length");
  });

  test("length over 1 MiB announced in the header", async () => {
    await framingCase([{ op: "raw", b64: b64(Buffer.concat([header(MIB + 1), Buffer.from("{}")])) }], "too_large");
  });

  test("length 0xFFFFFFFF", async () => {
    await framingCase([{ op: "raw", b64: b64(header(0xffffffff)) }], "too_large");
  });

  test("truncated header (2 bytes, then EOF)", async () => {
    await framingCase([{ op: "raw", b64: b64(Buffer.from([0, 0])) }, { op: "end" }], "truncated_header");
  });

  test("truncated header after a complete frame: the complete frame lands, the fragment does not", async () => {
    const good = nextGood();
    await framingCase([{ op: "raw", b64: b64(Buffer.concat([text(JSON.stringify(good.frame)), Buffer.from([0, 0, 1])])) }, { op: "end" }], "truncated_header", 1);
    // The complete frame sent before the fragment landed, just before the witness.
    const rows = readReceipts(d.db, CHAIN);
    expect(rows.at(-2)!.receipt.issuer.session_id).toBe(good.session);
  });

  test("truncated body (header says 200, 50 bytes, then EOF)", async () => {
    await framingCase([{ op: "raw", b64: b64(Buffer.concat([header(200), Buffer.from(frameText().slice(0, 50))])) }, { op: "end" }], "truncated_body");
  });

  test("truncated body by a sender that exits without half-closing", async () => {
    await framingCase([{ op: "raw", b64: b64(valid().subarray(0, 40)) }, { op: "exit" }], "truncated_body");
  });
});

describe("the 1 MiB limit", () => {
  function frameOfBodyLength(session: string, bodyBytes: number): { frame: Record<string, Json>; input: Json } {
    const input = { pad: "" };
    const frame = validFrame(session, 0, { input });
    const size = Buffer.byteLength(JSON.stringify(frame));
    input.pad = "p".repeat(bodyBytes - size);
    expect(Buffer.byteLength(JSON.stringify(frame))).toBe(bodyBytes);
    return { frame, input };
  }

  test("a frame whose JSON body is exactly 1 MiB (1048576 bytes) is accepted", async () => {
    const { frame, input } = frameOfBodyLength(`exact-mib-${++marker}`, MIB);
    const r = await runSender("node", d.socket, { steps: [{ op: "frames", frames: [frame], mode: "each" }, { op: "end" }, { op: "waitClose" }] });
    expect(r.lines.find((l) => "closed" in l)).toMatchObject({ closed: true, by: "end" });
    expectLanded(frame.session_id as string);
    expect(readReceipts(d.db, CHAIN).at(-1)!.receipt.credentialSubject.action.parameters_hash).toBe(expectedHash(input));
  });

  test("a frame of 1 MiB + 1 bytes is refused and closes only that connection", async () => {
    const { frame } = frameOfBodyLength("bad-frame", MIB + 1);
    await framingCase([{ op: "frames", frames: [frame], mode: "each" }, { op: "end" }], "too_large");
  });
});

describe("after all of it", () => {
  test("the daemon is up, counted every rejection, and stops cleanly with a chain verify accepts", async () => {
    expectAlive();
    expect(await d.stop("SIGTERM")).toBe(0);
    const stopped = d.logs().find((l) => l.event === "stopped")!;
    expect(stopped).toMatchObject({ rejected_frames: rejectedLogs().length, framing_errors: framingLogs().length, rejected_events: 0 });
    const rows = readReceipts(d.db, CHAIN);
    expect(rows).toHaveLength(expected + 1);
    expect(chainProblems(rows)).toEqual([]);
    const v = verify(d.db, d.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains).toEqual([{ chain_id: CHAIN, valid: true, count: expected + 1, status: "interrupted", retries: 0 }]);
    expect(d.stderr()).not.toContain(SECRET);
  });
});
