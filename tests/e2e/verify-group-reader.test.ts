// The system install's auditor: another uid, only group read access (0640
// files in a 0750 dir, no write on -shm), verifies while the daemon runs and
// after it stopped.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startDaemon } from "../helpers/daemon.ts";
import { BINARY, tempDir } from "../helpers/fixtures.ts";

const NOBODY = 65534;
const READ_GID = 4242;
const isRoot = process.getuid?.() === 0;

function verifyAs(db: string, publicKey: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(BINARY, ["verify", "--db", db, "--public-key", publicKey], { uid: NOBODY, gid: READ_GID, encoding: "utf8", env: { PATH: process.env.PATH } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test.skipIf(!isRoot)("a reader with group read access only verifies a live and a stopped daemon's database", async () => {
  const root = tempDir("ar-group-");
  chmodSync(root, 0o755);
  const data = join(root, "data");
  mkdirSync(data, { mode: 0o750 });
  const daemon = await startDaemon({ dir: root, args: ["--db", join(data, "receipts.db"), "--key", join(data, "signing.key"), "--chain-id", "audit"] });
  try {
    const emit = spawnSync(BINARY, ["emit", "--socket", daemon.socket, "--tool", "read_file", "--input", '{"path":"/etc/hosts"}']);
    expect(emit.status).toBe(0);
    for (const name of [".", ...readdirSync(data)]) chownSync(join(data, name), 0, READ_GID);
    // The reader cannot write anything here, not even the -shm file.
    for (const name of readdirSync(data).filter((n) => n.startsWith("receipts.db"))) chmodSync(join(data, name), 0o640);
    const live = verifyAs(join(data, "receipts.db"), join(data, "signing.key.pub"));
    expect(live.err).toBe("");
    expect(live.code).toBe(0);
    expect(live.out).toContain("VALID   chain audit  1 receipt  status: unknown");
  } finally {
    expect(await daemon.stop()).toBe(0);
  }
  const stopped = verifyAs(join(data, "receipts.db"), join(data, "signing.key.pub"));
  expect(stopped.code).toBe(0);
  expect(stopped.out).toContain("VALID   chain audit  2 receipts  status: interrupted");
});

test.skipIf(!isRoot)("a stopped daemon's database copied alone (the documented cold backup: WAL mode, no -wal) into a directory the reader cannot write: verified, nothing created beside it", async () => {
  const root = tempDir("ar-group-copy-");
  chmodSync(root, 0o755);
  const data = join(root, "data");
  mkdirSync(data, { mode: 0o750 });
  const daemon = await startDaemon({ dir: root, args: ["--db", join(data, "receipts.db"), "--key", join(data, "signing.key"), "--chain-id", "audit"] });
  const emit = spawnSync(BINARY, ["emit", "--socket", daemon.socket, "--tool", "read_file"]);
  expect(emit.status).toBe(0);
  expect(await daemon.stop()).toBe(0);
  const copies = join(root, "copies");
  mkdirSync(copies, { mode: 0o750 });
  copyFileSync(join(data, "receipts.db"), join(copies, "copy.db"));
  chownSync(copies, 0, READ_GID);
  chownSync(join(copies, "copy.db"), 0, READ_GID);
  chmodSync(join(copies, "copy.db"), 0o640);
  chownSync(data, 0, READ_GID);
  chownSync(join(data, "signing.key.pub"), 0, READ_GID);
  const before = readdirSync(copies).sort();
  expect(before).toEqual(["copy.db"]);
  const r = verifyAs(join(copies, "copy.db"), join(data, "signing.key.pub"));
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  expect(r.out).toContain("VALID   chain audit");
  expect(readdirSync(copies).sort()).toEqual(before);
});
