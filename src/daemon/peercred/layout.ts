// Kernel structures and constants for peer credentials, as pure data so they
// can be unit-tested on any platform.

export const LINUX = {
  SOL_SOCKET: 1,
  SO_PEERCRED: 17,
  SO_PEERPIDFD: 77,
  /** The peer's supplementary groups at connect time, as gid_t[]. */
  SO_PEERGROUPS: 59,
  ERANGE: 34,
  /** struct ucred { pid_t pid; uid_t uid; gid_t gid; } */
  UCRED_SIZE: 12,
  SYS_pidfd_send_signal: 424, // same number on x86_64 and arm64 (unified syscall table)
  ENOPROTOOPT: 92,
  ESRCH: 3,
} as const;

export const DARWIN = {
  SOL_LOCAL: 0,
  LOCAL_PEERCRED: 0x001,
  LOCAL_PEEREPID: 0x003,
  /** struct xucred { u_int cr_version; uid_t cr_uid; short cr_ngroups; gid_t cr_groups[16]; } */
  XUCRED_SIZE: 76,
  XUCRED_VERSION: 0,
  XUCRED_UID_OFFSET: 4,
  XUCRED_NGROUPS_OFFSET: 8,
  XUCRED_GROUPS_OFFSET: 12,
  PROC_PIDPATHINFO_MAXSIZE: 4096,
  ENOTCONN: 57,
} as const;

export interface Ucred {
  pid: number;
  uid: number;
  gid: number;
}

export function decodeUcred(buf: Uint8Array): Ucred {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { pid: view.getInt32(0, true), uid: view.getUint32(4, true), gid: view.getUint32(8, true) };
}

export interface Xucred {
  version: number;
  uid: number;
  groups: number[];
}

/** Decodes struct xucred; the peer's gid is its first group. */
export function decodeXucred(buf: Uint8Array): Xucred {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Math.max(0, Math.min(16, view.getInt16(DARWIN.XUCRED_NGROUPS_OFFSET, true)));
  const groups: number[] = [];
  for (let i = 0; i < n; i++) groups.push(view.getUint32(DARWIN.XUCRED_GROUPS_OFFSET + 4 * i, true));
  return { version: view.getUint32(0, true), uid: view.getUint32(DARWIN.XUCRED_UID_OFFSET, true), groups };
}
