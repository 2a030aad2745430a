// How many file descriptors this process may hold and holds now, so that the
// daemon can stop accepting before accept() fails with EMFILE.
import { closeSync, openSync, readdirSync } from "node:fs";
import { dlopen, FFIType, ptr } from "bun:ffi";

const RLIMIT_NOFILE = process.platform === "darwin" ? 8 : 7;

/** The soft RLIMIT_NOFILE, or undefined when unlimited or unreadable. */
export function descriptorLimit(): number | undefined {
  try {
    const lib = dlopen(process.platform === "darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6", {
      getrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    });
    try {
      // struct rlimit { rlim_t rlim_cur, rlim_max; }: two 64-bit values on both platforms.
      const limits = new BigUint64Array(2);
      if (lib.symbols.getrlimit(RLIMIT_NOFILE, ptr(limits)) !== 0) return undefined;
      const soft = limits[0]!;
      return soft > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(soft);
    } finally {
      lib.close();
    }
  } catch {
    return undefined;
  }
}

/** Descriptors open in this process now (one more, for the listing itself). */
export function descriptorsInUse(): number | undefined {
  try {
    return readdirSync(process.platform === "darwin" ? "/dev/fd" : "/proc/self/fd").length;
  } catch {
    return undefined;
  }
}

/** EMFILE or ENFILE, as Node-style errors carry them. */
export function isExhaustionCode(code: string | undefined): boolean {
  return code === "EMFILE" || code === "ENFILE";
}

/** Whether one more descriptor can be opened now; false on EMFILE/ENFILE. */
export function descriptorAvailable(): boolean {
  let fd: number;
  try {
    fd = openSync("/dev/null", "r");
  } catch (err) {
    // Only exhaustion counts: another failure says nothing about descriptors.
    return !isExhaustionCode((err as NodeJS.ErrnoException).code);
  }
  closeSync(fd);
  return true;
}
