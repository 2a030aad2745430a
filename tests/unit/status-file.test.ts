// The status file's `log` member (docs/protocol.md §9.8): files of older
// daemons, without it, still parse; `null` means the log is off; a member
// that does not parse is dropped, not the whole file.
import { describe, expect, test } from "bun:test";
import { parseStatusFile } from "../../src/status/status-file.ts";

const base = {
  format: 1, pid: 42, uid: 1000, version: "0.1.0", started_at: "2026-11-29T10:00:00.000Z", updated_at: "2026-11-29T10:00:10.000Z",
  socket: "/run/x/events.sock", db: "/var/lib/x/receipts.db", key: "/var/lib/x/signing.key", public_key: "/var/lib/x/signing.key.pub",
  chain_id: "2026-11-29", fingerprint: "sha256:00", config: null, allow_uids: [], allow_groups: [], socket_group: null,
};

const log = {
  origin: "host/agent-receipts/0011223344556677", tree_size: 12, checkpoint_size: 10, checkpoint_at: "2026-11-29T10:00:05.000Z", checkpoint_interval: 10,
  anchors: [{ name: "file:/var/log/cp", published: 3, failures: 2, failed_attempts: 1, last_error: "EACCES", last_published_size: 8, last_published_at: "2026-11-29T10:00:01.000Z" }],
};

function parsed(extra: Record<string, unknown>) {
  const r = parseStatusFile(JSON.stringify({ ...base, ...extra }));
  if (typeof r === "string") throw new Error(r);
  return r;
}

describe("status file log member", () => {
  test("absent (an older daemon): the file parses, log stays undefined", () => {
    expect(parsed({}).log).toBeUndefined();
  });
  test("null: the daemon runs with the log off", () => {
    expect(parsed({ log: null }).log).toBeNull();
  });
  test("a well-formed log is kept as written", () => {
    expect(parsed({ log }).log).toEqual(log);
  });
  test("a malformed log is dropped, the rest of the file kept", () => {
    for (const bad of [{ ...log, tree_size: -1 }, { ...log, anchors: [{ name: "x" }] }, { ...log, origin: 5 }, { ...log, checkpoint_interval: "10" }, "on"]) {
      const r = parsed({ log: bad });
      expect(r.log).toBeUndefined();
      expect(r.pid).toBe(42);
    }
  });
});
