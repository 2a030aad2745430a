// flock(2) through bun:ffi (node:fs has no file locks). The kernel drops the
// lock when the holder's last descriptor closes, including when the process is
// killed, so a crashed holder never leaves a stale lock behind. Opened at first
// use, like every libc binding here.
import { dlopen, FFIType, read } from "bun:ffi";

/** Same values on Linux and macOS. */
const LOCK_EX = 2;
const LOCK_NB = 4;
const EINTR = 4;
const EWOULDBLOCK = process.platform === "darwin" ? 35 : 11;

interface Flock {
  flock(fd: number, operation: number): number;
  errno(): number;
}

function openLibc(): Flock {
  const signature = { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } } as const;
  if (process.platform === "darwin") {
    const lib = dlopen("/usr/lib/libSystem.B.dylib", { ...signature, __error: { args: [], returns: FFIType.ptr } });
    return { flock: (fd, op) => lib.symbols.flock(fd, op), errno: () => read.i32(lib.symbols.__error()!, 0) };
  }
  const lib = dlopen("libc.so.6", { ...signature, __errno_location: { args: [], returns: FFIType.ptr } });
  return { flock: (fd, op) => lib.symbols.flock(fd, op), errno: () => read.i32(lib.symbols.__errno_location()!, 0) };
}
let libc: Flock | undefined;

export class FlockError extends Error {}

/** Takes an exclusive lock on `fd` without waiting: true when taken, false when another descriptor holds it. */
export function tryLockExclusive(fd: number): boolean {
  libc ??= openLibc();
  for (;;) {
    if (libc.flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
    const errno = libc.errno();
    if (errno === EWOULDBLOCK) return false;
    if (errno !== EINTR) throw new FlockError(`flock failed with errno ${errno}`);
  }
}
