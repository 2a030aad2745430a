import type { PeerCredential } from "../../receipt/types.ts";

export interface PeerCapture {
  credential: PeerCredential;
  /** Why exe_path is missing, when it is. */
  exeNote?: string;
  /** The daemon ran out of file descriptors (EMFILE/ENFILE) while attesting: it must stop accepting for a while. */
  outOfDescriptors?: true;
}

/** Credentials could not be read: the connection must be closed. */
export class PeerCredError extends Error {}

export interface PeerCredReader {
  capture(fd: number): PeerCapture;
  /** The peer's groups as the kernel recorded them at connect (for group allow-lists). */
  groups(fd: number): number[];
  loginOf(uid: number): string | undefined;
  /** One-time remarks for the log (e.g. a kernel without SO_PEERPIDFD). */
  notes(): string[];
}
