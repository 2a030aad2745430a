// macOS peer credentials through bun:ffi: LOCAL_PEERCRED (uid, first group),
// LOCAL_PEEREPID (pid) and proc_pidpath. Compiled into the darwin binaries;
// layouts and constants are unit-tested in layout.ts.
import { dlopen, FFIType, read, ptr } from "bun:ffi";
import { loginOfUid } from "../../os/accounts.ts";
import { DARWIN, decodeXucred, type Xucred } from "./layout.ts";
import { PeerCredError, type PeerCapture, type PeerCredReader } from "./types.ts";
import { describeErrno } from "../../os/errno.ts";

const libSystem = dlopen("/usr/lib/libSystem.B.dylib", {
  getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  __error: { args: [], returns: FFIType.ptr },
});
const libproc = dlopen("/usr/lib/libproc.dylib", {
  proc_pidpath: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
});

function errno(): number {
  return read.i32(libSystem.symbols.__error()!, 0);
}

export class DarwinPeerCredReader implements PeerCredReader {

  private xucred(fd: number): Xucred {
    const xucred = new Uint8Array(DARWIN.XUCRED_SIZE);
    const len = new Uint32Array([DARWIN.XUCRED_SIZE]);
    if (libSystem.symbols.getsockopt(fd, DARWIN.SOL_LOCAL, DARWIN.LOCAL_PEERCRED, ptr(xucred), ptr(len)) !== 0) {
      throw new PeerCredError(`getsockopt(LOCAL_PEERCRED) failed: ${describeErrno(errno())}`);
    }
    const cred = decodeXucred(xucred);
    if (cred.version !== DARWIN.XUCRED_VERSION) throw new PeerCredError(`unexpected xucred version ${cred.version}`);
    return cred;
  }

  capture(fd: number): PeerCapture {
    const cred = this.xucred(fd);
    const gid = cred.groups[0] ?? 0;
    const pidBuf = new Int32Array(1);
    const len = new Uint32Array([4]);
    // The peer may already be gone (ENOTCONN) while LOCAL_PEERCRED still answers: record pid 0, no path.
    if (libSystem.symbols.getsockopt(fd, DARWIN.SOL_LOCAL, DARWIN.LOCAL_PEEREPID, ptr(pidBuf), ptr(len)) !== 0) {
      return { credential: { platform: "darwin", pid: 0, uid: cred.uid, gid }, exeNote: `LOCAL_PEEREPID failed: ${describeErrno(errno())}` };
    }
    const pid = pidBuf[0]!;
    const credential = { platform: "darwin" as const, pid, uid: cred.uid, gid };
    const path = new Uint8Array(DARWIN.PROC_PIDPATHINFO_MAXSIZE);
    const n = libproc.symbols.proc_pidpath(pid, ptr(path), path.length);
    if (n <= 0) return { credential, exeNote: `proc_pidpath(${pid}) failed` };
    return { credential: { ...credential, exe_path: new TextDecoder().decode(path.subarray(0, n)) } };
  }

  /** xucred carries at most 16 groups, the first being the effective gid. */
  groups(fd: number): number[] {
    return this.xucred(fd).groups;
  }

  loginOf(uid: number): string | undefined {
    return loginOfUid(uid);
  }

  notes(): string[] {
    return [];
  }
}
