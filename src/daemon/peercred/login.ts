// Login name of a uid through getpwuid_r (covers NSS users, unlike parsing
// /etc/passwd), cached per uid. The symbol comes from the platform's libc.
import { CString, ptr, read, type Pointer } from "bun:ffi";
import { PASSWD_NAME_OFFSET, PASSWD_STRUCT_BYTES } from "./layout.ts";

export type GetpwuidR = (uid: number, pwd: Pointer, buf: Pointer, buflen: bigint, result: Pointer) => number;

export class LoginCache {
  private readonly logins = new Map<number, string | undefined>();

  constructor(private readonly getpwuid_r: GetpwuidR) {}

  loginOf(uid: number): string | undefined {
    if (this.logins.has(uid)) return this.logins.get(uid);
    const pwd = new Uint8Array(PASSWD_STRUCT_BYTES);
    const buf = new Uint8Array(16384);
    const result = new BigUint64Array(1);
    let login: string | undefined;
    if (this.getpwuid_r(uid, ptr(pwd), ptr(buf), BigInt(buf.length), ptr(result)) === 0 && result[0] !== 0n) {
      const namePtr = read.ptr(ptr(pwd), PASSWD_NAME_OFFSET);
      login = namePtr === 0 ? undefined : new CString(namePtr as Pointer).toString();
    }
    this.logins.set(uid, login);
    return login;
  }
}
