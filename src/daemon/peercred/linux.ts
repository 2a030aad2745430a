// Linux peer credentials through bun:ffi: SO_PEERCRED for pid/uid/gid, then
// SO_PEERPIDFD so the executable path read from /proc is provably the sender's
// (a recycled pid would fail the pidfd liveness check).
import { dlopen, FFIType, read, ptr } from "bun:ffi";
import { loginOfUid } from "../../os/accounts.ts";
import { readlinkSync } from "node:fs";
import { LINUX, decodeUcred } from "./layout.ts";
import { PeerCredError, type PeerCapture, type PeerCredReader } from "./types.ts";
import { describeErrno, isDescriptorExhaustion } from "../../os/errno.ts";

const libc = dlopen("libc.so.6", {
  getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  syscall: { args: [FFIType.i64, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
});

function errno(): number {
  return read.i32(libc.symbols.__errno_location()!, 0);
}

export class LinuxPeerCredReader implements PeerCredReader {
  private pidfdSupported = true;
  private readonly pending: string[] = [];
  private readonly ucred = new Uint8Array(LINUX.UCRED_SIZE);
  private readonly intBuf = new Int32Array(1);
  private readonly lenBuf = new Uint32Array(1);

  capture(fd: number): PeerCapture {
    this.lenBuf[0] = LINUX.UCRED_SIZE;
    if (libc.symbols.getsockopt(fd, LINUX.SOL_SOCKET, LINUX.SO_PEERCRED, ptr(this.ucred), ptr(this.lenBuf)) !== 0) {
      throw new PeerCredError(`getsockopt(SO_PEERCRED) failed: ${describeErrno(errno())}`);
    }
    const { pid, uid, gid } = decodeUcred(this.ucred);
    const credential = { platform: "linux" as const, pid, uid, gid };
    if (pid <= 0) return { credential, exeNote: "kernel reported no peer pid" };

    let pidfd = -1;
    if (this.pidfdSupported) {
      this.lenBuf[0] = 4;
      if (libc.symbols.getsockopt(fd, LINUX.SOL_SOCKET, LINUX.SO_PEERPIDFD, ptr(this.intBuf), ptr(this.lenBuf)) === 0) {
        pidfd = this.intBuf[0]!;
      } else {
        const e = errno();
        if (e === LINUX.ESRCH) return { credential, exeNote: `peer process ${pid} already gone (SO_PEERPIDFD: ${describeErrno(e)})` };
        if (isDescriptorExhaustion(e)) {
          return { credential, exeNote: `no descriptor left to pin peer process ${pid} (SO_PEERPIDFD: ${describeErrno(e)})`, outOfDescriptors: true };
        }
        if (e !== LINUX.ENOPROTOOPT) return { credential, exeNote: `SO_PEERPIDFD failed for peer process ${pid}: ${describeErrno(e)}` };
        this.pidfdSupported = false;
        this.pending.push("kernel lacks SO_PEERPIDFD (Linux < 6.5): exe_path is read without pid-reuse protection");
      }
    }
    try {
      let exe: string;
      try {
        exe = readlinkSync(`/proc/${pid}/exe`);
      } catch (err) {
        return { credential, exeNote: `cannot read /proc/${pid}/exe: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
      }
      // The pidfd pins the original process: if it has exited (ESRCH), the pid may now be another
      // program's. EPERM only means the daemon may not signal another user's process: it is alive.
      if (pidfd >= 0 && Number(libc.symbols.syscall(LINUX.SYS_pidfd_send_signal, pidfd, 0, null, 0)) !== 0 && errno() === LINUX.ESRCH) {
        return { credential, exeNote: `peer process ${pid} exited before its executable could be confirmed` };
      }
      return { credential: { ...credential, exe_path: exe } };
    } finally {
      if (pidfd >= 0) libc.symbols.close(pidfd);
    }
  }

  groups(fd: number): number[] {
    let buf = new Uint32Array(64);
    for (;;) {
      this.lenBuf[0] = buf.byteLength;
      if (libc.symbols.getsockopt(fd, LINUX.SOL_SOCKET, LINUX.SO_PEERGROUPS, ptr(buf), ptr(this.lenBuf)) === 0) {
        return Array.from(buf.subarray(0, this.lenBuf[0]! / 4));
      }
      const e = errno();
      // ERANGE: the kernel wrote the size it needs into the length.
      if (e !== LINUX.ERANGE || this.lenBuf[0]! <= buf.byteLength) throw new PeerCredError(`getsockopt(SO_PEERGROUPS) failed: ${describeErrno(e)}`);
      buf = new Uint32Array(Math.ceil(this.lenBuf[0]! / 4));
    }
  }

  loginOf(uid: number): string | undefined {
    return loginOfUid(uid);
  }

  notes(): string[] {
    return this.pending.splice(0);
  }
}
