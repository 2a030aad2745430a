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
}

export type ToWriter = WriterInit | { kind: "batch"; events: ChainEvent[] } | { kind: "shutdown" };

export type FromWriter =
  | { kind: "ready"; rootChainId: string; resumedFrom: number; fingerprint: string; keyCreated: boolean; publicKeyPublished: boolean }
  | { kind: "init_failed"; message: string }
  | { kind: "committed"; throughNo: number; events: number; receipts: number; rejected: RejectedEvent[]; commitMs: number }
  | { kind: "commit_failed"; message: string }
  | { kind: "closed"; terminated: string[]; walFolded: boolean }
  | { kind: "close_failed"; message: string };
