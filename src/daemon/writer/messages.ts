// Messages between the daemon's receiver (main thread) and its chain writer worker.
import type { ChainEvent, RejectedEvent } from "../pipeline/chain-writer.ts";

export interface WriterInit {
  kind: "init";
  dbPath: string;
  keyPath: string;
  publicKeyPath: string;
  issuerId: string;
  verificationMethod: string;
  chainIdBase: string;
  /** Sub-agent chains kept open at once. */
  maxAgentChains: number;
  /** The transparency log; null when turned off. */
  tlog: TlogSettings | null;
}

export interface TlogSettings {
  /** Undefined: derived from the host name and the key fingerprint. */
  origin: string | undefined;
  every: number;
  intervalMs: number;
}

/** A checkpoint the writer thread signed and committed. */
export interface IssuedCheckpoint {
  note: string;
  size: number;
  root: Uint8Array;
  createdAt: string;
}

/** The log as the writer thread found it at start. */
export interface TlogReady {
  origin: string;
  /** The note verifier key of the log (name = origin). */
  vkey: string;
  size: number;
  /** Receipts that got their leaves at this start (a database from before the log). */
  backfilled: { leaves: number; fromSize: number; ms: number } | null;
  /** Problems between the tree, the receipts and the stored checkpoints, found at start. */
  problems: string[];
  latest: IssuedCheckpoint | null;
}

export type ToWriter =
  | WriterInit
  | { kind: "batch"; events: ChainEvent[] }
  | { kind: "cosignatures"; size: number; anchor: string; lines: string[] }
  | { kind: "shutdown" }
  | { kind: "close" };

export type FromWriter =
  | { kind: "ready"; rootChainId: string; resumedFrom: number; fingerprint: string; keyCreated: boolean; publicKeyPublished: boolean; tlog: TlogReady | null }
  | { kind: "init_failed"; message: string }
  | { kind: "committed"; throughNo: number; events: number; receipts: number; rejected: RejectedEvent[]; commitMs: number }
  | { kind: "commit_failed"; message: string }
  | { kind: "terminated"; terminated: string[] }
  | { kind: "closed"; terminated: string[]; walFolded: boolean }
  | { kind: "close_failed"; message: string }
  | { kind: "checkpoint"; checkpoint: IssuedCheckpoint }
  | { kind: "checkpoint_failed"; message: string }
  | { kind: "cosignatures_stored"; size: number; anchor: string; added: number }
  | { kind: "cosignatures_failed"; size: number; anchor: string; message: string };
