// proofValue encoding with the strict checks of docs/protocol.md §5.
import type { KeyObject } from "node:crypto";
import { verifyBytes } from "./keys.ts";
import { PROOF_TYPE, type Proof } from "./types.ts";
import type { KeySource } from "./key-source.ts";

export class MalformedProofError extends Error {}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
export const SIGNATURE_BYTES = 64;

export function encodeProofValue(signature: Uint8Array): string {
  if (signature.length !== SIGNATURE_BYTES) throw new MalformedProofError(`signature must be ${SIGNATURE_BYTES} bytes`);
  return `u${Buffer.from(signature).toString("base64url")}`;
}

export function decodeProofValue(proofValue: unknown): Uint8Array {
  if (typeof proofValue !== "string") throw new MalformedProofError("proofValue is not a string");
  if (!proofValue.startsWith("u")) throw new MalformedProofError("proofValue lacks the multibase 'u' prefix");
  const body = proofValue.slice(1);
  if (!BASE64URL.test(body)) throw new MalformedProofError("proofValue is not unpadded base64url");
  if (body.length % 4 === 1) throw new MalformedProofError("proofValue has an impossible base64url length");
  const bytes = Buffer.from(body, "base64url");
  if (bytes.length !== SIGNATURE_BYTES) throw new MalformedProofError(`proofValue decodes to ${bytes.length} bytes, not ${SIGNATURE_BYTES}`);
  // 64 bytes take 86 characters; the last carries 2 data bits and 4 zero bits.
  // Stray bits there would let two texts decode to the same signature.
  if ((BASE64URL_ALPHABET.indexOf(body[body.length - 1]!) & 0x0f) !== 0) throw new MalformedProofError("proofValue is not canonical base64url");
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Checks proof shape and returns the signature bytes; throws MalformedProofError. */
export function signatureOf(proof: unknown): Uint8Array {
  if (typeof proof !== "object" || proof === null) throw new MalformedProofError("receipt has no proof object");
  const p = proof as Record<string, unknown>;
  if (p.type !== PROOF_TYPE) throw new MalformedProofError(`proof.type is ${JSON.stringify(p.type)}, not "${PROOF_TYPE}"`);
  return decodeProofValue(p.proofValue);
}

export interface ProofOptions {
  created: string;
  verificationMethod: string;
}

export function makeProof(signer: KeySource, canonical: string, options: ProofOptions): Proof {
  return {
    type: PROOF_TYPE,
    created: options.created,
    verificationMethod: options.verificationMethod,
    proofPurpose: "assertionMethod",
    proofValue: encodeProofValue(signer.sign(canonical)),
  };
}

export function verifyProof(publicKey: KeyObject, canonical: string, proof: unknown): boolean {
  return verifyBytes(publicKey, canonical, signatureOf(proof));
}
