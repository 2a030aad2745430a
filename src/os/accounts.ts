// User and group names to ids through the platform's libc (getpwnam_r and
// getgrnam_r cover NSS and Directory Services, unlike parsing /etc files).
// Used once at start to resolve the allow-list and the socket group.
import { dlopen, FFIType, ptr, read } from "bun:ffi";

/** struct passwd: pw_name, pw_passwd (pointers), then uid_t pw_uid — same offset on Linux and macOS (64-bit). */
export const PASSWD_UID_OFFSET = 16;
/** struct group: gr_name, gr_passwd (pointers), then gid_t gr_gid. */
export const GROUP_GID_OFFSET = 16;
const STRUCT_BYTES = 128;
const BUF_BYTES = 1 << 16;

const lib = dlopen(process.platform === "darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6", {
  getpwnam_r: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  getgrnam_r: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
});

function lookup(fn: "getpwnam_r" | "getgrnam_r", name: string, offset: number): number | undefined {
  const entry = new Uint8Array(STRUCT_BYTES);
  const buf = new Uint8Array(BUF_BYTES);
  const result = new BigUint64Array(1);
  const cname = Buffer.from(`${name}\0`);
  if (lib.symbols[fn](ptr(cname), ptr(entry), ptr(buf), BigInt(buf.length), ptr(result)) !== 0 || result[0] === 0n) return undefined;
  return read.u32(ptr(entry), offset);
}

/** The uid of login `name`, or undefined when there is no such user. */
export function uidOfLogin(name: string): number | undefined {
  return lookup("getpwnam_r", name, PASSWD_UID_OFFSET);
}

/** The gid of group `name`, or undefined when there is no such group. */
export function gidOfGroup(name: string): number | undefined {
  return lookup("getgrnam_r", name, GROUP_GID_OFFSET);
}
