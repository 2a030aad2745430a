// Messages between the verifier and its workers.
import type { Segment } from "./chain-rules.ts";

/**
 * Where a batch's receipts come from: given inline (files), or read by the
 * worker itself from the database, so receipt text never crosses threads.
 */
export type BatchSource =
  | { kind: "json"; receipts: string[] }
  | { kind: "rows"; db: string; chainId: string; fromSequence: number; toSequence: number };

export interface BatchJob {
  count: number;
  source: BatchSource;
}

export type VerifyRequest =
  | { kind: "init"; publicKeyPem: string }
  | { kind: "batch"; batch: number; base: number; source: BatchSource };

/** One batch, checked and linked inside the worker: only its head and tail come back. */
export type VerifyResponse = { batch: number; segment: Segment } | { batch: number; error: string };
