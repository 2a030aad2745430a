// Users and groups through the platform's libc (getpwnam_r, getgrnam_r and
// getpwuid_r cover NSS and Directory Services, unlike parsing /etc files):
// the one binding for account lookups, used by the daemon's attestation,
// access control and `service`. Opened at the first lookup, not at import.
import { CString, dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";

/** struct passwd: pw_name, pw_passwd (pointers), then uid_t pw_uid — same offsets on Linux and macOS (64-bit). */
export const PASSWD_NAME_OFFSET = 0;
export const PASSWD_UID_OFFSET = 16;
/** struct group: gr_name, gr_passwd (pointers), then gid_t gr_gid. */
export const GROUP_NAME_OFFSET = 0;
export const GROUP_GID_OFFSET = 16;
/** Generous room for struct passwd (Linux 48 bytes, macOS 72 bytes) and struct group. */
const STRUCT_BYTES = 128;
const BUF_BYTES = 1 << 16;

const LOOKUP_ARGS = [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr] as const;

function openLibc() {
  return dlopen(process.platform === "darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6", {
    getpwnam_r: { args: LOOKUP_ARGS, returns: FFIType.i32 },
    getgrnam_r: { args: LOOKUP_ARGS, returns: FFIType.i32 },
    getpwuid_r: { args: [FFIType.u32, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    getgrgid_r: { args: [FFIType.u32, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  });
}
let libc: ReturnType<typeof openLibc> | undefined;

/** Calls one of the *_r lookups; returns the filled struct, or undefined when there is no such entry. */
function lookup(call: (entry: Pointer, buf: Pointer, result: Pointer) => number): Uint8Array | undefined {
  const entry = new Uint8Array(STRUCT_BYTES);
  const buf = new Uint8Array(BUF_BYTES);
  const result = new BigUint64Array(1);
  if (call(ptr(entry), ptr(buf), ptr(result)) !== 0 || result[0] === 0n) return undefined;
  return entry;
}

function symbols() {
  libc ??= openLibc();
  return libc.symbols;
}

/** The uid of login `name`, or undefined when there is no such user. */
export function uidOfLogin(name: string): number | undefined {
  const cname = Buffer.from(`${name}\0`);
  const entry = lookup((e, b, r) => symbols().getpwnam_r(ptr(cname), e, b, BigInt(BUF_BYTES), r));
  return entry && read.u32(ptr(entry), PASSWD_UID_OFFSET);
}

/** The gid of group `name`, or undefined when there is no such group. */
export function gidOfGroup(name: string): number | undefined {
  const cname = Buffer.from(`${name}\0`);
  const entry = lookup((e, b, r) => symbols().getgrnam_r(ptr(cname), e, b, BigInt(BUF_BYTES), r));
  return entry && read.u32(ptr(entry), GROUP_GID_OFFSET);
}

const logins = new Map<number, string | undefined>();

/** The login name of `uid`, cached (the daemon asks once per connection). */
export function loginOfUid(uid: number): string | undefined {
  if (logins.has(uid)) return logins.get(uid);
  const entry = lookup((e, b, r) => symbols().getpwuid_r(uid, e, b, BigInt(BUF_BYTES), r));
  const namePtr = entry && read.ptr(ptr(entry), PASSWD_NAME_OFFSET);
  const login = namePtr ? new CString(namePtr as Pointer).toString() : undefined;
  logins.set(uid, login);
  return login;
}

/** The name of group `gid`, or undefined when there is no such group (status and doctor name the group to join). */
export function groupNameOfGid(gid: number): string | undefined {
  const entry = lookup((e, b, r) => symbols().getgrgid_r(gid, e, b, BigInt(BUF_BYTES), r));
  const namePtr = entry && read.ptr(ptr(entry), GROUP_NAME_OFFSET);
  return namePtr ? new CString(namePtr as Pointer).toString() : undefined;
}
