// Peer credential layouts and the Linux reader on a real Unix socket.
import { describe, expect, test } from "bun:test";
import { chmodSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { DARWIN, LINUX, decodeUcred, decodeXucred } from "../../src/daemon/peercred/layout.ts";
import { LinuxPeerCredReader } from "../../src/daemon/peercred/linux.ts";
import type { PeerCapture } from "../../src/daemon/peercred/types.ts";
import { ROOT, tempDir } from "../helpers/fixtures.ts";

describe("struct layouts", () => {
  test("struct ucred is pid, uid, gid as 32-bit little-endian ints", () => {
    const buf = new Uint8Array(LINUX.UCRED_SIZE);
    const view = new DataView(buf.buffer);
    view.setInt32(0, 31337, true);
    view.setUint32(4, 1000, true);
    view.setUint32(8, 0, true);
    expect(decodeUcred(buf)).toEqual({ pid: 31337, uid: 1000, gid: 0 });
  });

  test("struct xucred offsets follow C alignment (u_int, uid_t, short + padding, gid_t[16])", () => {
    // offsetof(cr_groups) = align(4 + 4 + 2, alignof(gid_t) = 4) = 12; sizeof = 12 + 16 * 4.
    expect(DARWIN.XUCRED_UID_OFFSET).toBe(4);
    expect(DARWIN.XUCRED_NGROUPS_OFFSET).toBe(8);
    expect(DARWIN.XUCRED_GROUPS_OFFSET).toBe(12);
    expect(DARWIN.XUCRED_SIZE as number).toBe(12 + 16 * 4);
    const buf = new Uint8Array(DARWIN.XUCRED_SIZE);
    const view = new DataView(buf.buffer);
    view.setUint32(0, DARWIN.XUCRED_VERSION, true);
    view.setUint32(4, 501, true);
    view.setInt16(8, 3, true);
    [20, 12, 61].forEach((g, i) => view.setUint32(12 + 4 * i, g, true));
    view.setUint32(12 + 4 * 3, 999, true); // beyond cr_ngroups: must be ignored
    expect(decodeXucred(buf)).toEqual({ version: 0, uid: 501, groups: [20, 12, 61] });
  });

  test("darwin and linux constants", () => {
    expect([DARWIN.SOL_LOCAL, DARWIN.LOCAL_PEERCRED, DARWIN.LOCAL_PEEREPID, DARWIN.PROC_PIDPATHINFO_MAXSIZE]).toEqual([0, 1, 3, 4096]);
    expect([LINUX.SOL_SOCKET, LINUX.SO_PEERCRED, LINUX.SO_PEERPIDFD, LINUX.SYS_pidfd_send_signal]).toEqual([1, 17, 77, 424]);
  });

  test("the darwin reader bundles for a darwin target", async () => {
    const result = await Bun.build({ entrypoints: [join(ROOT, "src/daemon/peercred/darwin.ts")], target: "bun" });
    expect(result.success).toBe(true);
  });
});

describe("linux reader", () => {
  test.skipIf(process.platform !== "linux")("captures this process's pid, uid, gid and executable through SO_PEERCRED + SO_PEERPIDFD", async () => {
    const reader = new LinuxPeerCredReader();
    const path = join(tempDir(), "p.sock");
    let captured: PeerCapture | Error | undefined;
    const server = Bun.listen({
      unix: path,
      socket: {
        open(s) {
          try {
            captured = reader.capture((s as unknown as { fd: number }).fd);
          } catch (err) {
            captured = err as Error;
          }
          s.end();
        },
        data() {},
      },
    });
    const client = await Bun.connect({ unix: path, socket: { data() {} } });
    while (captured === undefined) await Bun.sleep(5);
    client.end();
    server.stop(true);
    expect(captured).not.toBeInstanceOf(Error);
    const { credential, exeNote } = captured as PeerCapture;
    expect(exeNote).toBeUndefined();
    expect(credential).toEqual({
      platform: "linux", pid: process.pid, uid: process.getuid!(), gid: process.getgid!(), exe_path: realpathSync(process.execPath),
    });
    expect(reader.notes()).toEqual([]);
  });

  test.skipIf(process.platform !== "linux" || process.getuid?.() !== 0)("a peer's supplementary groups via SO_PEERGROUPS, also beyond the first buffer (needs root for setgroups)", async () => {
    const reader = new LinuxPeerCredReader();
    const dir = tempDir();
    const path = join(dir, "g.sock");
    let groups: number[] | Error | undefined;
    const server = Bun.listen({
      unix: path,
      socket: {
        open(s) {
          try {
            groups = reader.groups((s as unknown as { fd: number }).fd);
          } catch (err) {
            groups = err as Error;
          }
          s.end();
        },
        data() {},
      },
    });
    chmodSync(dir, 0o755);
    chmodSync(path, 0o777); // the client runs as nobody
    // 100 groups: more than the reader's first 64-entry buffer, so the ERANGE retry must work.
    const wanted = Array.from({ length: 100 }, (_, i) => 50_000 + i);
    // Async, so that this process's server accepts while the client is alive.
    const client = Bun.spawn(["setpriv", "--reuid=65534", "--regid=65534", `--groups=${wanted.join(",")}`, "--",
      // The server ends the connection as soon as it has the groups; the client may see that as a reset of its connect.
      process.execPath, "-e", `await Bun.connect({ unix: ${JSON.stringify(path)}, socket: { data() {} } }).catch(() => {}); await Bun.sleep(300);`], { stderr: "pipe" });
    const code = await client.exited;
    server.stop(true);
    expect({ code, stderr: await new Response(client.stderr).text() }).toEqual({ code: 0, stderr: "" });
    expect(groups).not.toBeInstanceOf(Error);
    expect([...(groups as number[])].sort((a, b) => a - b)).toEqual(wanted);
  });

  test.skipIf(process.platform !== "linux")("login names come from getpwuid_r", () => {
    const reader = new LinuxPeerCredReader();
    expect(reader.loginOf(0)).toBe("root");
    expect(reader.loginOf(3_999_999_999)).toBeUndefined();
  });
});
