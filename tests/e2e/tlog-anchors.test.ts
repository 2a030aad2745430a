// Anchors through the compiled daemon (issue 12): the syslog anchor writes
// each checkpoint, whole, through logger(1) to a real Unix datagram socket;
// a failing file anchor is logged and retried with backoff while ingest goes
// on, and catches up once it works; bad anchor and log settings stop the
// daemon at start naming the key.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, tempDir } from "../helpers/fixtures.ts";
import { daemonTracker, runCli, waitFor } from "../daemon/support.ts";
import type { DaemonHandle } from "../helpers/daemon.ts";
import { splitNotes } from "../../src/tlog/note-file.ts";

const daemons = daemonTracker();
const listeners: ChildProcess[] = [];
afterAll(async () => {
  for (const l of listeners) if (l.exitCode === null && l.signalCode === null) l.kill("SIGKILL");
  await daemons.stopAll();
});

function emit(d: DaemonHandle, count: number): void {
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ tool: { name: "Read" }, decision: "allowed", input: { i } })).join("\n");
  const r = spawnSync(BINARY, ["emit", "--stdin", "--socket", d.socket], { input: `${lines}\n`, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`emit failed (${r.status}): ${r.stderr}`);
}

function notes(db: string): string[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.query<{ note: string }, []>("SELECT note FROM tlog_checkpoints ORDER BY size").all().map((r) => r.note);
  } finally {
    conn.close();
  }
}

const python = Bun.which("python3");
const logger = Bun.which("logger");

describe("syslog anchor", () => {
  test.skipIf(python === null || logger === null || process.platform !== "linux")("each checkpoint goes to the syslog socket as one line carrying the whole signed note", async () => {
    const dir = tempDir("ar-tlog-syslog-");
    const sock = join(dir, "log.sock");
    // A real datagram socket, as /dev/log is; it prints each message it receives on a line.
    const listener = spawn(python!, ["-u", "-c", [
      "import socket, sys", "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)", "s.bind(sys.argv[1])", "print('ready', flush=True)",
      "while True:", "    print(s.recv(65536).decode('utf-8', 'replace').replace('\\n', ' '), flush=True)",
    ].join("\n"), sock], { stdio: ["ignore", "pipe", "inherit"] });
    listeners.push(listener);
    let received = "";
    listener.stdout!.on("data", (b: Buffer) => (received += b.toString()));
    await waitFor("the syslog listener", () => received, (r) => r.includes("ready"));
    const config = join(dir, "daemon.toml");
    writeFileSync(config, `checkpoint_every = 20\nanchors = ["syslog:${sock}"]\nlog_origin = "syslog.test/log"\n`);
    const d = await daemons.start({ dir, args: ["--config", config] });
    emit(d, 50);
    expect(await d.stop()).toBe(0);
    const stored = notes(d.db);
    await waitFor("syslog lines", () => received.split("\n").filter((l) => l.includes("checkpoint origin=")).length, (n) => n >= 1);
    const lines = received.split("\n").filter((l) => l.includes("checkpoint origin="));
    for (const line of lines) {
      expect(line).toContain("agent-receipts");
      const m = /checkpoint origin=(\S+) size=(\d+) root=(\S+) note=(\S+)/.exec(line)!;
      expect(m[1]).toBe("syslog.test/log");
      const note = Buffer.from(m[4]!, "base64").toString("utf8");
      expect(stored).toContain(note);
      expect(note.split("\n")[1]).toBe(m[2]);
    }
    // The newest checkpoint (the one signed at stop) reached the log before the daemon exited.
    expect(lines.some((l) => l.includes(`size=${stored.at(-1)!.split("\n")[1]} `))).toBe(true);
    expect(d.logs().some((l) => l.event === "anchor_failed")).toBe(false);
  }, 60_000);
});

describe("a failing anchor", () => {
  test("is logged and retried with backoff while every event is committed; once it works it gets the newest checkpoint", async () => {
    const dir = tempDir("ar-tlog-anchorfail-");
    const missing = join(dir, "not-yet", "checkpoints");
    const config = join(dir, "daemon.toml");
    writeFileSync(config, `checkpoint_every = 10\ncheckpoint_interval = "200ms"\nanchors = ["file:${missing}"]\n`);
    const d = await daemons.start({ dir, args: ["--config", config] });
    emit(d, 100);
    const failed = await waitFor("anchor_failed", () => d.logs().filter((l) => l.event === "anchor_failed"), (l) => l.length >= 1);
    expect(failed[0]).toMatchObject({ anchor: `file:${missing}`, failed_attempts: 1, retry_ms: 1000 });
    expect(String(failed[0]!.error)).toContain(missing);
    // Ingest did not wait for the anchor.
    const conn = new Database(d.db, { readonly: true });
    expect(conn.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM receipts").get()!.n).toBe(100);
    conn.close();
    mkdirSync(join(dir, "not-yet"));
    await waitFor("anchor_recovered", () => d.logs().some((l) => l.event === "anchor_recovered"), (ok) => ok, 15_000);
    emit(d, 5);
    expect(await d.stop()).toBe(0);
    const anchored = splitNotes(readFileSync(missing, "utf8")).notes;
    expect(anchored.at(-1)).toBe(notes(d.db).at(-1));
    const stopped = d.logs().find((l) => l.event === "stopped")!;
    expect(Number(stopped.anchor_failures)).toBeGreaterThanOrEqual(1);
    expect(Number(stopped.checkpoints)).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

describe("bad log settings stop the daemon at start, naming the key", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["an unknown anchor", 'anchors = ["ftp://example.com/x"]', /"anchors"\[0\]: unknown anchor "ftp:\/\/example.com\/x"/],
    ["a witness anchor without its vkey", 'anchors = ["witness:http://127.0.0.1:7380"]', /"anchors"\[0\]: witness anchor .* must be "witness:URL VKEY"/],
    ["a relative syslog socket", 'anchors = ["syslog:dev/log"]', /must be an absolute path/],
    ["anchors not a list", 'anchors = "syslog"', /"anchors" must be a list/],
    ["an origin with a space", 'log_origin = "my log"', /"log_origin" must be a non-empty name/],
    ["an origin with a plus", 'log_origin = "a+b"', /"log_origin"/],
    ["checkpoint_every 0", "checkpoint_every = 0", /"checkpoint_every" must be a whole number of receipts from 1/],
    ["checkpoint_interval too short", 'checkpoint_interval = "1ms"', /"checkpoint_interval" must be seconds/],
    ["transparency_log not a boolean", 'transparency_log = "yes"', /"transparency_log" must be true or false/],
  ];
  test.each(cases)("%s", (_what, line, message) => {
    const dir = tempDir("ar-tlog-config-");
    const config = join(dir, "daemon.toml");
    writeFileSync(config, `${line}\n`);
    const r = runCli(["daemon", "--config", config, "--print-config"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split("\n").filter((l) => l !== "")).toHaveLength(1);
    expect(existsSync(join(dir, "receipts.db"))).toBe(false);
  });

  test("flags: --checkpoint-every and --log-origin are checked the same way", () => {
    expect(runCli(["daemon", "--checkpoint-every", "x", "--print-config"]).stderr).toMatch(/--checkpoint-every: "checkpoint_every" must be a whole number/);
    const ok = runCli(["daemon", "--log-origin", "ex.com/l", "--checkpoint-interval", "500ms", "--print-config"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('log_origin = "ex.com/l"');
    expect(ok.stdout).toContain("checkpoint_interval = 0.5");
  });
});
