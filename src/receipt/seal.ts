// Fixes a receipt's place in the chain (canonical bytes + hash) and signs it.
// Hashing and signing are separate steps: the chain needs only the hash, so
// signatures can be made later or elsewhere (docs/protocol.md §5).
import { canonicalJson, hashCanonical } from "./canonical.ts";
import type { KeySource } from "./key-source.ts";
import { makeProof } from "./proof.ts";
import type { Proof, UnsignedReceipt } from "./types.ts";

export interface HashedReceipt {
  receipt: UnsignedReceipt;
  canonical: string;
  hash: string;
}

export function hashReceipt(receipt: UnsignedReceipt): HashedReceipt {
  const canonical = canonicalJson(receipt);
  return { receipt, canonical, hash: hashCanonical(canonical) };
}

/**
 * The stored JSON of a signed receipt: the canonical text with `proof` added.
 * Verifiers re-canonicalize after removing `proof`, so key order here is free.
 */
export function signedJson(canonical: string, proof: Proof): string {
  return `${canonical.slice(0, -1)},"proof":${JSON.stringify(proof)}}`;
}

export function signReceipt(hashed: HashedReceipt, signer: KeySource, verificationMethod: string): string {
  const proof = makeProof(signer, hashed.canonical, { created: hashed.receipt.issuanceDate, verificationMethod });
  return signedJson(hashed.canonical, proof);
}
