// The one socket resolver shared by the daemon, the CLI, the hook and the
// Node emitter (issue 13 item 13): the public protocol's order where it gives
// a usable path, the per-user data directory where it cannot.
import { describe, expect, test } from "bun:test";
import { defaultSocketPath, resolvePaths, resolveSocketPath, SYSTEM_SOCKET_DIR, type Host } from "../../src/paths/resolve.ts";
import { safeRoots } from "../../src/daemon/socket-path.ts";

const user = (systemDirExists: boolean): Host => ({ uid: 1000, exists: (p) => systemDirExists && p === SYSTEM_SOCKET_DIR });
const root: Host = { uid: 0, exists: () => false };
const HOME = { HOME: "/home/alice" };

describe("socket path resolution on Linux", () => {
  test.each([
    ["AGENTRECEIPTS_SOCKET wins", { ...HOME, AGENTRECEIPTS_SOCKET: "/x/s.sock", XDG_RUNTIME_DIR: "/run/user/1000" }, user(true), "/x/s.sock"],
    ["XDG_RUNTIME_DIR next", { ...HOME, XDG_RUNTIME_DIR: "/run/user/1000" }, user(true), "/run/user/1000/agentreceipts/events.sock"],
    ["a relative XDG_RUNTIME_DIR is ignored", { ...HOME, XDG_RUNTIME_DIR: "run" }, root, "/run/agentreceipts/events.sock"],
    ["root: the system socket", HOME, root, "/run/agentreceipts/events.sock"],
    ["a user, with a system daemon's directory present: the system socket", HOME, user(true), "/run/agentreceipts/events.sock"],
    ["a user, no runtime dir, no system directory: the data directory", HOME, user(false), "/home/alice/.local/share/agent-receipts/events.sock"],
    ["... under XDG_DATA_HOME when absolute", { ...HOME, XDG_DATA_HOME: "/data" }, user(false), "/data/agent-receipts/events.sock"],
    ["empty values count as unset", { ...HOME, AGENTRECEIPTS_SOCKET: "", XDG_RUNTIME_DIR: "" }, user(false), "/home/alice/.local/share/agent-receipts/events.sock"],
  ] as const)("%s", (_name, env, host, expected) => {
    expect(resolveSocketPath(env, "linux", host)).toBe(expected);
    // The daemon's defaults come from the same function.
    expect(resolvePaths(env, "linux", host).socket).toBe(expected);
  });

  test("macOS is unchanged: the data directory, whoever asks", () => {
    expect(defaultSocketPath(HOME, "darwin", root)).toBe("/home/alice/.local/share/agent-receipts/events.sock");
    expect(defaultSocketPath({ ...HOME, XDG_RUNTIME_DIR: "/r" }, "darwin", user(true))).toBe("/home/alice/.local/share/agent-receipts/events.sock");
  });

  test("the per-user default is inside a safe root, so it needs no --unsafe-socket-path", () => {
    expect(safeRoots(HOME, "linux")).toContain("/home/alice/.local/share/agent-receipts");
  });
});
