// Whether the reader of a pipe we write to has gone: poll(2) reports POLLERR
// (Linux) or POLLHUP on the write end then. A follower that prints nothing
// for a while (`tail -f | head -3` after its third line) asks this to end
// promptly instead of at its next write. One call per poll tick, no wait.
import { dlopen, FFIType, ptr } from "bun:ffi";

const POLLERR = 0x008;
const POLLHUP = 0x010;

function openLibc() {
  return dlopen(process.platform === "darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6", {
    poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  });
}
let libc: ReturnType<typeof openLibc> | undefined;

export function outputGone(fd: number): boolean {
  libc ??= openLibc();
  // struct pollfd { int fd; short events; short revents; }: events 0 still reports errors and hang-ups.
  const pfd = new Int32Array(2);
  pfd[0] = fd;
  const n = libc.symbols.poll(ptr(pfd), 1, 0);
  const revents = new Int16Array(pfd.buffer)[3]!;
  return n > 0 && (revents & (POLLERR | POLLHUP)) !== 0;
}
