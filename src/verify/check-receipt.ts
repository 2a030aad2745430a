// Per-receipt work of verification that does not depend on order: parse,
// canonicalize, hash, check the proof and, for a stored row, its index
// columns. Runs inside the verify workers.
import type { KeyObject } from "node:crypto";
import { EVENTS_DROPPED_TYPE } from "../daemon/pipeline/builder.ts";
import { canonicalJson, sha256Hex } from "../receipt/canonical.ts";
import { verifyBytes } from "../receipt/keys.ts";
import { MalformedProofError, signatureOf } from "../receipt/proof.ts";
import type { StoredRow } from "../store/schema.ts";
import { columnMismatch, type ColumnMismatch, type ReceiptFields } from "./columns.ts";
import { eventKeyOf, type EventKey } from "./retries.ts";

export type ReceiptProblem = "malformed_receipt" | "malformed_proof" | "bad_signature";

/** What the in-order checks need to know about one receipt. */
export interface CheckedReceipt {
  id: string;
  hash: string;
  sequence: unknown;
  previousHash: unknown;
  chainId: unknown;
  terminal: unknown;
  status: unknown;
  problem?: ReceiptProblem;
  detail?: string;
  /** A stored row whose index columns differ from its signed receipt. */
  columns?: ColumnMismatch;
  /** proof.verificationMethod of a receipt whose signature fails: it may name the key that signed it. */
  verificationMethod?: string;
}

/** One receipt checked, with what the caller counts beyond the chain rules. */
export interface Inspected {
  checked: CheckedReceipt;
  /** Parsed as a JSON object with a credentialSubject.chain object: it is at least shaped like a receipt. */
  receiptLike: boolean;
  /** action.idempotency_key and the call's stage, of a receipt whose signature verifies. */
  eventKey?: EventKey;
  /** For an events_dropped receipt whose signature verifies: the events it says were lost (0 when its count is unreadable). */
  droppedEvents?: number;
}

export function checkReceipt(json: string, publicKey: KeyObject): CheckedReceipt {
  return inspect(json, publicKey, undefined).checked;
}

/** Checks a stored row: its receipt as checkReceipt does, and its index columns against that receipt. */
export function checkStoredRow(row: StoredRow, publicKey: KeyObject): Inspected {
  return inspect(row.receipt_json, publicKey, row);
}

export function inspectReceipt(json: string, publicKey: KeyObject): Inspected {
  return inspect(json, publicKey, undefined);
}

function inspect(json: unknown, publicKey: KeyObject, row: StoredRow | undefined): Inspected {
  if (typeof json !== "string") return { checked: malformed("receipt_json is not text"), receiptLike: false };
  let receipt: ReceiptFields;
  try {
    receipt = JSON.parse(json) as ReceiptFields;
  } catch (err) {
    return { checked: malformed(`not JSON: ${(err as Error).message}`), receiptLike: false };
  }
  if (typeof receipt !== "object" || receipt === null || Array.isArray(receipt)) return { checked: malformed("not a JSON object"), receiptLike: false };
  const chain = receipt.credentialSubject?.chain;
  const base: CheckedReceipt = {
    id: typeof receipt.id === "string" ? receipt.id : "",
    hash: "",
    sequence: chain?.sequence,
    previousHash: chain?.previous_receipt_hash,
    chainId: chain?.chain_id,
    terminal: chain?.terminal,
    status: chain?.status,
  };
  if (chain === undefined || chain === null || typeof chain !== "object") {
    return { checked: { ...base, problem: "malformed_receipt", detail: "credentialSubject.chain is missing" }, receiptLike: false };
  }
  // The columns are compared once the hash is known, whatever else is wrong with the receipt.
  const done = (checked: CheckedReceipt): Inspected => {
    const mismatch = row === undefined ? null : columnMismatch(row, receipt, checked.hash);
    return { checked: mismatch === null ? checked : { ...checked, columns: mismatch }, receiptLike: true };
  };
  // The parsed object is ours: drop the proof in place rather than copying the receipt.
  const proof = receipt.proof;
  delete receipt.proof;
  let bytes: Buffer;
  try {
    bytes = Buffer.from(canonicalJson(receipt), "utf8");
  } catch (err) {
    return done({ ...base, problem: "malformed_receipt", detail: (err as Error).message });
  }
  // Hash and signature cover the same bytes: encode once.
  base.hash = `sha256:${sha256Hex(bytes)}`;
  let signature: Uint8Array;
  try {
    signature = signatureOf(proof);
  } catch (err) {
    if (err instanceof MalformedProofError) return done({ ...base, problem: "malformed_proof", detail: err.message });
    throw err;
  }
  if (!verifyBytes(publicKey, bytes, signature)) {
    const method = (proof as { verificationMethod?: unknown }).verificationMethod;
    const checked: CheckedReceipt = { ...base, problem: "bad_signature", detail: "Ed25519 signature does not match the receipt under this public key" };
    if (typeof method === "string") checked.verificationMethod = method;
    return done(checked);
  }
  const result = done(base);
  const action = receipt.credentialSubject?.action;
  const eventKey = eventKeyOf(receipt.credentialSubject);
  if (eventKey !== undefined) result.eventKey = eventKey;
  if (action?.type === EVENTS_DROPPED_TYPE) result.droppedEvents = dropCount(action.emitter_metadata?.drop_count);
  return result;
}

/** docs/protocol.md §6.4: an integer 0 <= n <= 2^53 - 1. */
function dropCount(n: unknown): number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

function malformed(detail: string): CheckedReceipt {
  return { id: "", hash: "", sequence: undefined, previousHash: undefined, chainId: undefined, terminal: undefined, status: undefined, problem: "malformed_receipt", detail };
}
