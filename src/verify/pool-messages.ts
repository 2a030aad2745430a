// Messages between the verifier and its workers.
import type { StoredRow } from "../store/schema.ts";
import type { Segment } from "./chain-rules.ts";

/**
 * Where a batch's receipts come from: given inline (a file's lines, or rows
 * the reader could not range over), or read by the worker itself from the
 * database, so receipt text never crosses threads.
 */
export type BatchSource =
  | { kind: "json"; receipts: string[] }
  | { kind: "stored"; rows: StoredRow[] }
  | { kind: "rows"; db: string; chainId: string; fromSequence: number; toSequence: number };

export interface BatchJob {
  count: number;
  source: BatchSource;
}

export type VerifyRequest =
  | { kind: "init"; publicKeyPem: string }
  | { kind: "batch"; batch: number; base: number; source: BatchSource };

/** Counts over every receipt of a batch, also those after a break. */
export interface BatchTally {
  /** Receipts whose signature verifies under the key. */
  verified: number;
  /** Receipts whose well-formed signature does not verify. */
  badSignatures: number;
  /** Receipts shaped like one (a JSON object with credentialSubject.chain). */
  receiptLike: number;
}

/**
 * The receipts of a batch that carry an idempotency key and verify: a 64-bit
 * hash of the key and the chain index, in index order. Typed arrays keep what
 * the verifier holds per receipt small.
 */
export interface KeyedReceipts {
  hashes: BigUint64Array;
  indexes: Float64Array;
}

/** The events_dropped receipts of a batch that verify: chain index and events lost, in index order (rare, so plain arrays). */
export interface DropReceipts {
  indexes: number[];
  events: number[];
}

/** One batch, checked and linked inside the worker: only its head and tail come back, with counts. */
export interface BatchResult {
  segment: Segment;
  tally: BatchTally;
  keyed: KeyedReceipts;
  drops: DropReceipts;
}

export type VerifyResponse = { batch: number; result: BatchResult } | { batch: number; error: string };
