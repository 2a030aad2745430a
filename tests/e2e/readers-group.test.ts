// The system install's auditor: another uid with only group read access to
// the database (0640 files in a 0750 directory; it can create nothing there,
// not even an -shm file) reads the record with list, show, tail -f and export
// while the daemon runs and after it stopped. Without the group it is told
// why (exit 2).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { BINARY, tempDir } from "../helpers/fixtures.ts";

const NOBODY = 65534;
const READ_GID = 4242;
const OTHER_GID = 4243;
const isRoot = process.getuid?.() === 0;

let root: string;
let data: string;
let out: string;
let daemon: DaemonHandle;

function as(gid: number, args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(BINARY, args, { uid: NOBODY, gid, encoding: "utf8", env: { PATH: process.env.PATH, HOME: out }, timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Gives the data directory and the database files to the read group, as the system install does. */
function groupReadable(): void {
  for (const name of [".", ...readdirSync(data)]) chownSync(join(data, name), 0, READ_GID);
  chmodSync(data, 0o750);
  for (const name of readdirSync(data).filter((n) => n.startsWith("receipts.db"))) chmodSync(join(data, name), 0o640);
}

function emit(tool: string): void {
  expect(spawnSync(BINARY, ["emit", "--socket", daemon.socket, "--tool", tool]).status).toBe(0);
}

beforeAll(async () => {
  if (!isRoot) return;
  root = tempDir("ar-readers-group-");
  chmodSync(root, 0o755);
  data = join(root, "data");
  mkdirSync(data, { mode: 0o750 });
  out = join(root, "out");
  mkdirSync(out, { mode: 0o777 });
  chmodSync(out, 0o777);
  daemon = await startDaemon({ dir: root, args: ["--db", join(data, "receipts.db"), "--key", join(data, "signing.key"), "--chain-id", "audit"] });
  emit("read_file");
  emit("Bash");
  groupReadable();
}, 30_000);

afterAll(async () => {
  await daemon?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

const db = () => join(data, "receipts.db");
const pub = () => join(data, "signing.key.pub");

function readsEverything(expected: number): void {
  const list = as(READ_GID, ["list", "--db", db(), "--jsonl"]);
  expect(list.err).toBe("");
  expect(list.code).toBe(0);
  expect(list.out.trim().split("\n")).toHaveLength(expected);
  const show = as(READ_GID, ["show", "audit:1", "--db", db(), "--public-key", pub()]);
  expect(show.code).toBe(0);
  expect(show.out).toMatch(/signature  valid under key/);
  const tail = as(READ_GID, ["tail", "-n", "1", "--db", db()]);
  expect(tail.code).toBe(0);
  const file = join(out, `export-${expected}.jsonl`);
  const exp = as(READ_GID, ["export", "--db", db(), "--out", file]);
  expect(exp.code).toBe(0);
  const verify = as(READ_GID, ["verify", "--file", file, "--public-key", pub()]);
  expect(verify.out).toContain(`VALID   chain audit  ${expected} receipt`);
}

test.skipIf(!isRoot)("with the daemon running: list, show, tail, export; tail -f sees new receipts", async () => {
  readsEverything(2);
  const follower = spawn(BINARY, ["tail", "-f", "-n", "0", "--jsonl", "--db", db()], { uid: NOBODY, gid: READ_GID, stdio: ["ignore", "pipe", "pipe"] });
  let printed = "";
  let err = "";
  follower.stdout!.on("data", (d: Buffer) => (printed += d.toString()));
  follower.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => follower.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  try {
    await Bun.sleep(300);
    emit("while_following");
    const deadline = Date.now() + 10_000;
    while (!printed.includes("while_following") && Date.now() < deadline) await Bun.sleep(20);
    expect(printed).toContain('"tool_name":"while_following"');
    expect(err).toBe("");
  } finally {
    follower.kill("SIGINT");
  }
  expect(await exited).toBe(0);
});

test.skipIf(!isRoot)("with the daemon stopped: the same, and nothing new in the data directory", async () => {
  expect(await daemon.stop()).toBe(0);
  groupReadable();
  const before = readdirSync(data).sort();
  readsEverything(4);
  expect(readdirSync(data).sort()).toEqual(before);
});

test.skipIf(!isRoot)("without the read group: exit 2, naming the database and the group to join", () => {
  const r = as(OTHER_GID, ["list", "--db", db()]);
  expect(r.code).toBe(2);
  expect(r.out).toBe("");
  expect(r.err).toMatch(/cannot read database .*receipts\.db: permission denied \(on its directory\)\. Read it as its owner or as a member of its group \(agentreceipts-read on a system install\)/);
  expect(r.err.trim().split("\n")).toHaveLength(1);
  // In the group, but the file itself is closed to it.
  chmodSync(db(), 0o600);
  try {
    const closed = as(READ_GID, ["list", "--db", db()]);
    expect(closed.code).toBe(2);
    expect(closed.err).toMatch(/cannot read database .*receipts\.db: permission denied\. Read it as its owner/);
  } finally {
    chmodSync(db(), 0o640);
  }
});
