// The per-session drop counter of short-lived emitters: private files, and no
// drop lost or double-counted when hooks of one session run concurrently.
import { expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { DropFile } from "../../src/emit-cli/drop-file.ts";
import { tempDir } from "../helpers/fixtures.ts";

test("add, take and peek; files are 0600 in a 0700 directory under the data dir", () => {
  const dataDir = join(tempDir("ar-drops-"), "agent-receipts");
  const drops = DropFile.forSession(dataDir, "claude-code", "session/../with odd chars");
  expect(dirname(dirname(drops.path))).toBe(dataDir);
  expect(drops.take()).toBe(0);
  drops.add(2);
  drops.add(3);
  expect(drops.peek()).toBe(5);
  expect(statSync(drops.path).mode & 0o777).toBe(0o600);
  expect(statSync(dirname(drops.path)).mode & 0o777).toBe(0o700);
  expect(drops.take()).toBe(5);
  expect(drops.take()).toBe(0);
  drops.add(0);
  expect(readdirSync(dirname(drops.path))).toEqual([]);
});

test("one file per session", () => {
  const dataDir = tempDir("ar-drops-");
  const a = DropFile.forSession(dataDir, "claude-code", "a");
  const b = DropFile.forSession(dataDir, "claude-code", "b");
  expect(a.path).not.toBe(b.path);
  a.add(1);
  expect(b.peek()).toBe(0);
  expect(DropFile.forSession(dataDir, "claude-code", "a").peek()).toBe(1);
});

test("concurrent processes neither lose nor double-count drops", async () => {
  const drops = new DropFile(join(tempDir("ar-drops-"), "agent-receipts", "emitter-drops", "s.count"));
  const worker = join(import.meta.dir, "fixtures", "drop-worker.ts");
  const runs = [...Array(6).keys()].map(
    () =>
      new Promise<{ added: number; taken: number }>((resolve, reject) => {
        const p = spawn(process.execPath, [worker, drops.path, "300"], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
        p.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as { added: number; taken: number }) : reject(new Error(`worker exited ${code}`))));
      }),
  );
  const results = await Promise.all(runs);
  const added = results.reduce((n, r) => n + r.added, 0);
  const taken = results.reduce((n, r) => n + r.taken, 0);
  expect(taken).toBeGreaterThan(0);
  expect(taken + drops.peek()).toBe(added);
  // No claim or scratch file left behind.
  expect(readdirSync(dirname(drops.path)).filter((f) => f !== "s.count")).toEqual([]);
});
