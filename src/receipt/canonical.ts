// The one canonical-bytes function (RFC 8785), used by hashing, signing and verifying.
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { findUnencodable } from "../protocol/json.ts";

export class CanonicalizationError extends TypeError {}

/**
 * True when every object's keys already enumerate in UTF-16 code unit order
 * and every number is finite: then JSON.stringify emits exactly RFC 8785
 * (same number formatting, same escapes), only much faster than re-sorting.
 * Stored receipts are in this form, which makes verification cheaper.
 */
function alreadyCanonicalOrder(value: unknown): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object" || value === null) return typeof value !== "undefined" && typeof value !== "function" && typeof value !== "symbol" && typeof value !== "bigint";
  if (Array.isArray(value)) {
    for (const item of value) if (!alreadyCanonicalOrder(item)) return false;
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  let prev: string | undefined;
  for (const key of Object.keys(value)) {
    if (prev !== undefined && !(prev < key)) return false;
    prev = key;
    if (!alreadyCanonicalOrder((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** A `\uD800`-`\uDFFF` escape: JSON.stringify's form of a lone surrogate, which JCS must refuse. */
const SURROGATE_ESCAPE = /\\ud[89a-f]/i;

/** RFC 8785 text of any JSON value; throws CanonicalizationError naming what cannot be encoded. */
export function canonicalJson(value: unknown): string {
  if (alreadyCanonicalOrder(value)) {
    const fast = JSON.stringify(value);
    if (!SURROGATE_ESCAPE.test(fast)) return fast;
  }
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (err) {
    throw new CanonicalizationError(`cannot canonicalize: ${findUnencodable(value) ?? (err as Error).message}`);
  }
  if (text === undefined) throw new CanonicalizationError(`cannot canonicalize: ${findUnencodable(value) ?? "value has no JSON form"}`);
  return text;
}

/** Canonical text of a receipt without its `proof` (docs/protocol.md §5). */
export function canonicalReceipt(receipt: object): string {
  if (!("proof" in receipt)) return canonicalJson(receipt);
  const { proof: _proof, ...unsigned } = receipt as { proof?: unknown };
  return canonicalJson(unsigned);
}

export function sha256Hex(data: string | Uint8Array): string {
  // Bun's one-shot hasher is about twice as fast as a node:crypto Hash object.
  return typeof Bun === "undefined" ? createHash("sha256").update(data).digest("hex") : (Bun.SHA256.hash(data, "hex") as string);
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
