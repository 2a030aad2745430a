// The compiled daemon fed by separate emitter processes over its real socket:
// chunking, concurrency with kernel-attested peers, the half-close
// confirmation, pid reuse, payload hashes, dropped events and sub-agent chains.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from "node:fs";
import { payloadHash } from "../../src/receipt/canonical.ts";
import type { DaemonHandle } from "../helpers/daemon.ts";
import {
  chainProblems, daemonTracker, expectedHash, countReceipts, readReceipts, realExe, runSender, sendAndConfirm, spawnSender, validFrame, verify, waitFor,
  type Json, type Row, type Runtime, type SenderHandle,
} from "./support.ts";

setDefaultTimeout(30_000);

const daemons = daemonTracker();
const daemon = (args: string[] = []): Promise<DaemonHandle> => daemons.start({ args });
afterAll(() => daemons.stopAll());

function sessionOf(r: Row): string | undefined {
  return r.receipt.issuer.session_id;
}

describe("frame decoding over the real socket", () => {
  test("a frame split byte by byte and 100 frames in one write all land, in order, without the slow sender delaying the fast one", async () => {
    const d = await daemon(["--chain-id", "chunks"]);
    const slowFrames = [0, 1, 2].map((i) => validFrame("byte-by-byte", i));
    const fastFrames = Array.from({ length: 100 }, (_, i) => validFrame("one-write", i));
    const slow = spawnSender("node", d.socket, { steps: [{ op: "frames", frames: slowFrames, mode: "byte", delayMs: 1 }, { op: "end" }, { op: "waitClose" }] });
    await slow.hello;
    const fast = await runSender("bun", d.socket, sendAndConfirm(fastFrames, "one"));
    // The bulk sender was confirmed while the byte-by-byte sender was still dribbling.
    expect(slow.proc.exitCode).toBeNull();
    expect(fast.lines.find((l) => "closed" in l)).toMatchObject({ closed: true, by: "end" });
    expect(await slow.exited).toBe(0);
    expect(slow.lines().find((l) => "closed" in l)).toMatchObject({ closed: true, by: "end" });

    const rows = readReceipts(d.db, "chunks");
    expect(rows).toHaveLength(103);
    expect(chainProblems(rows)).toEqual([]);
    const bySession = (s: string) => rows.filter((r) => sessionOf(r) === s).map((r) => r.receipt.credentialSubject.action.parameters_hash);
    expect(bySession("byte-by-byte")).toEqual(slowFrames.map((f) => expectedHash(f.input)));
    expect(bySession("one-write")).toEqual(fastFrames.map((f) => expectedHash(f.input)));
    expect(d.logs().filter((l) => l.event === "frame_rejected" || l.event === "framing_error")).toEqual([]);
  });
});

describe("4 emitter processes x 50 frames at once", () => {
  test("one contiguous chain of 200, each receipt attested with its sender's pid and executable; SIGTERM adds the terminator; verify accepts", async () => {
    const d = await daemon(["--chain-id", "load"]);
    const runtimes: Runtime[] = ["node", "bun", "node", "bun"];
    const senders: Array<{ runtime: Runtime; session: string; handle: SenderHandle }> = runtimes.map((runtime, k) => {
      const session = `load-${k}-${runtime}`;
      // Senders 0 and 1 stream in small writes; 2 and 3 send everything in one
      // write, half-close, wait for the daemon's close and exit at once.
      const send = k < 2
        ? { op: "gen", count: 50, session, perWrite: 5, delayMs: 2 }
        : { op: "frames", frames: Array.from({ length: 50 }, (_, i) => validFrame(session, i)), mode: "one" };
      const handle = spawnSender(runtime, d.socket, { steps: [{ op: "waitStdin" }, send, { op: "end" }, { op: "waitClose" }] });
      return { runtime, session, handle };
    });
    const hellos = await Promise.all(senders.map((s) => s.handle.hello));
    for (const s of senders) s.handle.proc.stdin!.write("go\n"); // all four connected: release them together
    expect(await Promise.all(senders.map((s) => s.handle.exited))).toEqual([0, 0, 0, 0]);
    for (const s of senders) expect(s.handle.lines().find((l) => "closed" in l)).toMatchObject({ closed: true, by: "end" });

    const rows = readReceipts(d.db, "load");
    expect(rows).toHaveLength(200);
    expect(chainProblems(rows)).toEqual([]);
    senders.forEach((s, k) => {
      const mine = rows.filter((r) => sessionOf(r) === s.session);
      expect(mine).toHaveLength(50);
      // Frames of one connection keep their order.
      expect(mine.map((r) => r.receipt.credentialSubject.action.parameters_hash)).toEqual(
        Array.from({ length: 50 }, (_, i) => expectedHash({ session: s.session, i })),
      );
      for (const r of mine) {
        expect(r.receipt.credentialSubject.action.peer_credential).toEqual({
          platform: "linux", pid: hellos[k]!.pid, uid: process.getuid!(), gid: process.getgid!(), exe_path: realExe(s.runtime),
        });
        expect(r.receipt.credentialSubject.principal.id).toBe("did:user:root");
      }
      expect(hellos[k]!.exe).toBe(realExe(s.runtime));
    });
    // The two runtimes really are different executables, so exe_path is a real check.
    expect(realExe("node")).not.toBe(realExe("bun"));

    expect(await d.stop("SIGTERM")).toBe(0);
    const all = readReceipts(d.db, "load");
    expect(all).toHaveLength(201);
    expect(chainProblems(all)).toEqual([]);
    const last = all[200]!.receipt.credentialSubject;
    expect(last.action.type).toBe("agent_receipts.chain_interrupted");
    expect(last.chain).toMatchObject({ sequence: 201, terminal: true, status: "interrupted" });
    const v = verify(d.db, d.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains).toEqual([{ chain_id: "load", valid: true, count: 201, status: "interrupted", retries: 0 }]);
  });
});

describe("half-close confirmation", () => {
  test.each([1, 300])("a sender that half-closes after %i frames sees the daemon's close only once all its receipts are committed", async (n) => {
    const d = await daemon();
    const session = `confirm-${n}`;
    const r = await runSender("bun", d.socket, {
      db: d.db,
      sessions: [session],
      steps: [{ op: "gen", count: n, session, perWrite: 50 }, { op: "end" }, { op: "waitClose" }],
    });
    // Counted by the sender itself, in its close handler, through its own read-only connection.
    expect(r.lines.find((l) => "closed" in l)).toEqual({ closed: true, by: "end", counts: { [session]: n } });
  });

  test("a connection that does not half-close is not closed by the daemon", async () => {
    const d = await daemon();
    const r = await runSender("node", d.socket, { steps: [{ op: "frames", frames: [validFrame("open", 0)], mode: "each" }, { op: "waitClose", timeoutMs: 500 }] });
    expect(r.lines.find((l) => "closed" in l)).toMatchObject({ closed: false, by: null });
    expect(countReceipts(d.db)).toBe(1);
  });
});

/** Logins by uid from /etc/passwd (the daemon resolves them with getpwuid_r). */
function passwd(): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const [name, , uid] = line.split(":");
    if (name && uid !== undefined) m.set(Number(uid), name);
  }
  return m;
}

describe("principal and peer from the kernel, never from the frame", () => {
  test.skipIf(process.getuid?.() !== 0)("other uids: did:user:<login>, did:user:linux:<uid> without a login; a uid outside the socket's group cannot connect (needs root to switch uid)", async () => {
    const users = passwd();
    let noLogin = 54321;
    while (users.has(noLogin)) noLogin++;
    const withLogin = users.has(65534) ? 65534 : [...users.keys()].find((u) => u !== 0)!;
    // Members of gid 0 may reach run/events.sock (0660 in 0750) and are allowed in.
    const d = await daemon(["--chain-id", "uids", "--allow-groups", "0"]);
    chmodSync(d.dir, 0o750);
    const spoof = { principal: { id: "did:user:spoofed" }, peer_credential: { pid: 1, uid: 0 } } as Record<string, Json>;
    const a = await runSender("node", d.socket, sendAndConfirm([validFrame("no-login", 0, spoof)]), { uid: noLogin, gid: 0 });
    const b = await runSender("bun", d.socket, sendAndConfirm([validFrame("with-login", 0, spoof)]), { uid: withLogin, gid: 0 });
    const outsider = spawnSender("node", d.socket, sendAndConfirm([validFrame("outsider", 0)]), { uid: noLogin, gid: noLogin });
    expect(await outsider.exited).toBe(3);
    expect(outsider.lines()[1]).toEqual({ error: "EACCES", stage: "connect" });

    const rows = readReceipts(d.db, "uids");
    expect(rows.map((r) => sessionOf(r))).toEqual(["no-login", "with-login"]);
    expect(rows[0]!.receipt.credentialSubject.principal).toEqual({ id: `did:user:linux:${noLogin}` });
    expect(rows[0]!.receipt.credentialSubject.action.peer_credential).toEqual({ platform: "linux", pid: a.pid, uid: noLogin, gid: 0, exe_path: realExe("node") });
    expect(rows[1]!.receipt.credentialSubject.principal).toEqual({ id: `did:user:${users.get(withLogin)}` });
    expect(rows[1]!.receipt.credentialSubject.action.peer_credential).toEqual({ platform: "linux", pid: b.pid, uid: withLogin, gid: 0, exe_path: realExe("bun") });
    for (const r of rows) expect(JSON.stringify(r.receipt)).not.toContain("spoofed");
  });
});

function nsLastPidWritable(): boolean {
  try {
    writeFileSync("/proc/sys/kernel/ns_last_pid", readFileSync("/proc/sys/kernel/ns_last_pid", "utf8").trim());
    return true;
  } catch {
    return false;
  }
}

describe("pid reuse", () => {
  test.skipIf(!nsLastPidWritable())("a sender whose pid is recycled before the daemon reads its exe never gets the new process's path (needs a writable /proc/sys/kernel/ns_last_pid)", async () => {
    const d = await daemon(["--chain-id", "recycle"]);
    const daemonPid = d.proc.pid!;
    process.kill(daemonPid, "SIGSTOP");
    let sleeper: ReturnType<typeof spawn> | undefined;
    try {
      // The kernel queues the connection and its bytes while the daemon is stopped.
      const s = spawnSender("node", d.socket, { steps: [{ op: "frames", frames: [validFrame("recycled", 0)], mode: "one" }, { op: "end" }, { op: "exit" }] });
      const { pid } = await s.hello;
      expect(await s.exited).toBe(0);
      for (let attempt = 0; attempt < 50; attempt++) {
        writeFileSync("/proc/sys/kernel/ns_last_pid", String(pid - 1));
        sleeper = spawn("/bin/sleep", ["30"], { stdio: "ignore" });
        if (sleeper.pid === pid) break;
        sleeper.kill("SIGKILL");
        sleeper = undefined;
      }
      if (sleeper === undefined) throw new Error(`could not make the kernel reuse pid ${pid} in 50 attempts`);
      // Precondition: the sender's pid now names a different program.
      const sleepExe = realpathSync("/bin/sleep");
      expect(readlinkSync(`/proc/${pid}/exe`)).toBe(sleepExe);
      process.kill(daemonPid, "SIGCONT");

      const rows = await waitFor("the receipt of the recycled sender", () => readReceipts(d.db, "recycle"), (r) => r.length === 1);
      const cred = rows[0]!.receipt.credentialSubject.action.peer_credential!;
      expect(cred.exe_path).not.toBe(sleepExe);
      expect(cred).toEqual({ platform: "linux", pid, uid: process.getuid!(), gid: process.getgid!() });
      expect(sessionOf(rows[0]!)).toBe("recycled");
    } finally {
      process.kill(daemonPid, "SIGCONT");
      sleeper?.kill("SIGKILL");
    }
  });
});

describe("payload hashes", () => {
  const payloads: Array<[string, Json]> = [
    ["nested object", { b: { y: [1, { z: null, a: true }], x: "s" }, a: -1.5e-7, c: 1e21, d: { "": 0, e: [[[]]] } }],
    ["unicode", { "€": "é", a: "😀", "\u0080": "ctrl\u0001\u001f", 日本: "語", "\ud83d\ude00k": 1, "ﬀ": "\u2028" }],
    ["array", [3, "two", { one: 1 }, [], {}, null, false]],
    ["number", 42],
    ["fraction", 0.1],
    ["string", "just a string"],
    ["true", true],
    ["false", false],
    ["empty object", {}],
    ["empty string", ""],
  ];

  test("parameters_hash and response_hash are sha256(JCS(value)); null and absent payloads have no hash", async () => {
    const d = await daemon(["--chain-id", "hashes"]);
    const frames = payloads.map(([name, input], i) => validFrame(`hash-${name}`, i, { input, output: { echo: input } }));
    frames.push(validFrame("null-input", 0, { input: null, output: null }));
    frames.push((({ input: _i, ...rest }) => rest)(validFrame("absent-input", 0)));
    frames.push(validFrame("primitive-output", 0, { output: "text output" }));
    await runSender("node", d.socket, sendAndConfirm(frames));
    // Number spellings the sender cannot produce with JSON.stringify: -0, 1.0, 100e-2, 1E+2.
    await runSender("node", d.socket, {
      steps: [
        {
          op: "body",
          text: `{"v":"1","ts_emit":"2026-01-01T00:00:00Z","session_id":"raw-numbers","channel":"sdk","tool":{"name":"t"},"decision":"allowed","input":{"n":1.0,"m":100e-2,"big":1E+2,"z":-0},"output":-0}`,
        },
        { op: "end" },
        { op: "waitClose" },
      ],
    });

    const rows = readReceipts(d.db, "hashes");
    expect(rows).toHaveLength(payloads.length + 4);
    payloads.forEach(([name, input], i) => {
      const action = rows[i]!.receipt.credentialSubject.action;
      expect(sessionOf(rows[i]!)).toBe(`hash-${name}`);
      expect(action.parameters_hash).toBe(expectedHash(input));
      expect(action.parameters_hash).toBe(payloadHash(input));
      expect(rows[i]!.receipt.credentialSubject.outcome.response_hash).toBe(expectedHash({ echo: input }));
    });
    const at = (s: string) => rows.find((r) => sessionOf(r) === s)!.receipt.credentialSubject;
    expect("parameters_hash" in at("null-input").action).toBe(false);
    expect("response_hash" in at("null-input").outcome).toBe(false);
    expect("parameters_hash" in at("absent-input").action).toBe(false);
    expect("response_hash" in at("absent-input").outcome).toBe(false);
    expect(at("primitive-output").outcome.response_hash).toBe(expectedHash("text output"));
    expect(at("raw-numbers").action.parameters_hash).toBe(expectedHash({ n: 1, m: 1, big: 100, z: 0 }));
    expect(at("raw-numbers").action.parameters_hash).toBe(`sha256:${createHash("sha256").update('{"big":100,"m":1,"n":1,"z":0}').digest("hex")}`);
    expect(at("raw-numbers").outcome.response_hash).toBe(`sha256:${createHash("sha256").update("0").digest("hex")}`);
    // Raw payloads are never stored.
    for (const r of rows) expect(JSON.stringify(r.receipt)).not.toContain("just a string");
  });
});

describe("dropped events", () => {
  test("drop_count 3 gives the events_dropped receipt, then the live receipt in the next slot, linked", async () => {
    const d = await daemon(["--chain-id", "drops"]);
    const r = await runSender("bun", d.socket, sendAndConfirm([
      validFrame("dropper", 0),
      validFrame("dropper", 1, { drop_count: 3 }),
      validFrame("dropper", 2, { drop_count: 0 }),
    ]));
    const rows = readReceipts(d.db, "drops");
    expect(rows).toHaveLength(4);
    expect(chainProblems(rows)).toEqual([]);
    const [first, dropped, live, afterZero] = rows.map((x) => x.receipt);
    expect(first!.credentialSubject.action.parameters_hash).toBe(expectedHash({ session: "dropper", i: 0 }));

    const peer = { platform: "linux", pid: r.pid, uid: process.getuid!(), gid: process.getgid!(), exe_path: realExe("bun") };
    expect(dropped!.issuer).toEqual({ id: "did:agent-receipts-daemon:local", type: "AgentReceiptsDaemon", session_id: "dropper" });
    const da = dropped!.credentialSubject.action;
    expect(da.type).toBe("agent_receipts.events_dropped");
    expect(da.tool_name).toBe("events_dropped");
    expect(da.risk_level).toBe("low");
    expect(da.emitter_metadata).toEqual({ drop_count: 3 });
    expect(da.peer_credential).toEqual(peer);
    expect("parameters_hash" in da).toBe(false);
    expect(dropped!.credentialSubject.outcome).toEqual({ status: "success" });
    expect(dropped!.credentialSubject.principal.id).toBe("did:user:root");
    expect(dropped!.credentialSubject.chain).toEqual({ sequence: 2, previous_receipt_hash: rows[0]!.receipt_hash, chain_id: "drops" });

    expect(live!.credentialSubject.action.type).toBe("sdk.write_file");
    expect(live!.credentialSubject.action.parameters_hash).toBe(expectedHash({ session: "dropper", i: 1 }));
    expect("emitter_metadata" in live!.credentialSubject.action).toBe(false);
    expect(live!.credentialSubject.chain).toEqual({ sequence: 3, previous_receipt_hash: rows[1]!.receipt_hash, chain_id: "drops" });
    // drop_count 0 adds nothing.
    expect(afterZero!.credentialSubject.action.parameters_hash).toBe(expectedHash({ session: "dropper", i: 2 }));
    expect("emitter_metadata" in afterZero!.credentialSubject.action).toBe(false);

    expect(await d.stop()).toBe(0);
    const v = verify(d.db, d.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains).toEqual([{ chain_id: "drops", valid: true, count: 5, status: "interrupted", retries: 0 }]);
  });
});

describe("sub-agent chains", () => {
  test("agent_id frames land in <root>/agent/<agent_id>, delegation only on the first receipt, pointing at the root tail of that moment", async () => {
    const d = await daemon(["--chain-id", "main"]);
    const root = (i: number) => validFrame("root-session", i);
    const agent = (id: string, i: number) => validFrame(`agent-${id}`, i, { agent_id: id, agent_type: "researcher" });
    await runSender("node", d.socket, sendAndConfirm([root(0), root(1)]));
    await runSender("node", d.socket, sendAndConfirm([agent("helper", 0)]));
    const rootTailAtHelper = readReceipts(d.db, "main")[1]!;
    await runSender("bun", d.socket, sendAndConfirm([root(2)]));
    await runSender("bun", d.socket, sendAndConfirm([agent("helper", 1), agent("other", 0)]));
    const rootTailAtOther = readReceipts(d.db, "main")[2]!;

    const mainRows = readReceipts(d.db, "main");
    expect(mainRows).toHaveLength(3);
    for (const r of mainRows) expect(r.receipt.credentialSubject.delegation).toBeUndefined();

    const helper = readReceipts(d.db, "main/agent/helper");
    expect(helper).toHaveLength(2);
    expect(chainProblems(helper)).toEqual([]);
    expect(helper[0]!.receipt.credentialSubject.delegation).toEqual({
      parent_chain_id: "main", parent_receipt_id: rootTailAtHelper.id, delegator: { id: "did:agent-receipts-daemon:local" },
    });
    expect(helper[0]!.receipt.issuer.runtime).toEqual({ agent_id: "helper", agent_type: "researcher" });
    expect(helper[1]!.receipt.credentialSubject.delegation).toBeUndefined();
    expect(helper[1]!.receipt.credentialSubject.action.parameters_hash).toBe(expectedHash({ session: "agent-helper", i: 1 }));

    const other = readReceipts(d.db, "main/agent/other");
    expect(other).toHaveLength(1);
    expect(other[0]!.receipt.credentialSubject.delegation).toEqual({
      parent_chain_id: "main", parent_receipt_id: rootTailAtOther.id, delegator: { id: "did:agent-receipts-daemon:local" },
    });

    // Every open chain gets its terminator.
    expect(await d.stop()).toBe(0);
    for (const id of ["main", "main/agent/helper", "main/agent/other"]) {
      const rows = readReceipts(d.db, id);
      expect(rows.at(-1)!.receipt.credentialSubject.chain).toMatchObject({ terminal: true, status: "interrupted" });
      expect(rows.at(-1)!.receipt.credentialSubject.action.type).toBe("agent_receipts.chain_interrupted");
    }
    const v = verify(d.db, d.publicKey);
    expect(v.code).toBe(0);
    expect(v.report.chains.map((c) => [c.chain_id, c.valid, c.count, c.status]).sort()).toEqual([
      ["main", true, 4, "interrupted"],
      ["main/agent/helper", true, 3, "interrupted"],
      ["main/agent/other", true, 2, "interrupted"],
    ]);
  });

  test("the first receipt of a sub-agent chain has no delegation while the root chain is empty", async () => {
    const d = await daemon(["--chain-id", "empty-root"]);
    await runSender("node", d.socket, sendAndConfirm([validFrame("a", 0, { agent_id: "early" })]));
    expect(readReceipts(d.db, "empty-root")).toHaveLength(0);
    const rows = readReceipts(d.db, "empty-root/agent/early");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.receipt.credentialSubject.chain).toEqual({ sequence: 1, previous_receipt_hash: null, chain_id: "empty-root/agent/early" });
    expect("delegation" in rows[0]!.receipt.credentialSubject).toBe(false);
  });
});
