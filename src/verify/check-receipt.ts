// Per-receipt work of verification that does not depend on order: parse,
// canonicalize, hash, check the proof. Runs inside the verify workers.
import type { KeyObject } from "node:crypto";
import { canonicalJson, sha256Hex } from "../receipt/canonical.ts";
import { verifyBytes } from "../receipt/keys.ts";
import { MalformedProofError, signatureOf } from "../receipt/proof.ts";

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
}

interface ParsedReceipt {
  id?: unknown;
  proof?: unknown;
  credentialSubject?: { chain?: { sequence?: unknown; previous_receipt_hash?: unknown; chain_id?: unknown; terminal?: unknown; status?: unknown } };
}

export function checkReceipt(json: string, publicKey: KeyObject): CheckedReceipt {
  let receipt: ParsedReceipt;
  try {
    receipt = JSON.parse(json) as ParsedReceipt;
  } catch (err) {
    return malformed(`not JSON: ${(err as Error).message}`);
  }
  if (typeof receipt !== "object" || receipt === null || Array.isArray(receipt)) return malformed("not a JSON object");
  const chain = receipt.credentialSubject?.chain;
  const base = {
    id: typeof receipt.id === "string" ? receipt.id : "",
    hash: "",
    sequence: chain?.sequence,
    previousHash: chain?.previous_receipt_hash,
    chainId: chain?.chain_id,
    terminal: chain?.terminal,
    status: chain?.status,
  };
  if (chain === undefined || typeof chain !== "object") return { ...base, problem: "malformed_receipt", detail: "credentialSubject.chain is missing" };
  // The parsed object is ours: drop the proof in place rather than copying the receipt.
  const proof = receipt.proof;
  delete receipt.proof;
  let bytes: Buffer;
  try {
    bytes = Buffer.from(canonicalJson(receipt), "utf8");
  } catch (err) {
    return { ...base, problem: "malformed_receipt", detail: (err as Error).message };
  }
  // Hash and signature cover the same bytes: encode once.
  base.hash = `sha256:${sha256Hex(bytes)}`;
  let signature: Uint8Array;
  try {
    signature = signatureOf(proof);
  } catch (err) {
    if (err instanceof MalformedProofError) return { ...base, problem: "malformed_proof", detail: err.message };
    throw err;
  }
  if (!verifyBytes(publicKey, bytes, signature)) {
    return { ...base, problem: "bad_signature", detail: "Ed25519 signature does not match the receipt under this public key" };
  }
  return base;
}

function malformed(detail: string): CheckedReceipt {
  return { id: "", hash: "", sequence: undefined, previousHash: undefined, chainId: undefined, terminal: undefined, status: undefined, problem: "malformed_receipt", detail };
}
