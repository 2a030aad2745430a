// errno values read through bun:ffi, named for people: the number alone was
// misread (errno 24, EMFILE, was logged as "peer process already gone").
import { constants } from "node:os";

const NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** What the common ones mean, for the log line. */
const MEANINGS: Record<string, string> = {
  EMFILE: "too many open files in this process",
  ENFILE: "too many open files in the system",
  ESRCH: "no such process",
  EPERM: "operation not permitted",
  EACCES: "permission denied",
  EBADF: "bad file descriptor",
  ENOTCONN: "socket not connected",
  ENOMEM: "out of memory",
  EINVAL: "invalid argument",
  ENOPROTOOPT: "option not supported by this kernel",
};

/** The platform's symbolic name of `errno`, e.g. "EMFILE"; "errno N" when unknown. */
export function errnoCode(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}

/** "EMFILE (errno 24: too many open files in this process)". */
export function describeErrno(errno: number): string {
  const code = NAMES.get(errno);
  if (code === undefined) return `errno ${errno}`;
  const meaning = MEANINGS[code];
  return meaning === undefined ? `${code} (errno ${errno})` : `${code} (errno ${errno}: ${meaning})`;
}

/** EMFILE or ENFILE: no descriptor could be had. */
export function isDescriptorExhaustion(errno: number): boolean {
  return errno === constants.errno.EMFILE || errno === constants.errno.ENFILE;
}
