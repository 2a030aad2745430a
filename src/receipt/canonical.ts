// The one canonical-bytes function (RFC 8785), used by hashing, signing and verifying.
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { findUnencodable } from "../protocol/json.ts";

export class CanonicalizationError extends TypeError {}

/** RFC 8785 text of any JSON value; throws CanonicalizationError naming what cannot be encoded. */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (err) {
    throw new CanonicalizationError(`cannot canonicalize: ${findUnencodable(value) ?? (err as Error).message}`);
  }
  if (text === undefined) throw new CanonicalizationError(`cannot canonicalize: ${findUnencodable(value) ?? "value has no JSON form"}`);
  return text;
}

/** Canonical text of a receipt without its `proof` (PROTOCOL §5). */
export function canonicalReceipt(receipt: object): string {
  if (!("proof" in receipt)) return canonicalJson(receipt);
  const { proof: _proof, ...unsigned } = receipt as { proof?: unknown };
  return canonicalJson(unsigned);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** `sha256:<hex>` of canonical text. */
export function hashCanonical(canonical: string): string {
  return `sha256:${sha256Hex(canonical)}`;
}

/** Receipt hash: sha256 of the canonical bytes without proof — the bytes that are signed. */
export function receiptHash(receipt: object): string {
  return hashCanonical(canonicalReceipt(receipt));
}

/** Payload hash of any JSON value: `sha256:` + hex(SHA-256(JCS(value))). */
export function payloadHash(value: unknown): string {
  return hashCanonical(canonicalJson(value));
}
