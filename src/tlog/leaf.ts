// What a receipt puts in the log: leaf entry = the 32 raw bytes of its hash.
import { leafHash, sha256 } from "./merkle.ts";

const RECEIPT_HASH = /^sha256:[0-9a-f]{64}$/;

/**
 * A leaf's entry: the 32 raw bytes of the receipt hash "sha256:<hex>". A
 * column that is not one (a tampered row: verify reports it) still gets a
 * leaf, the SHA-256 of its text, so that the tree never skips a row.
 */
export function leafEntry(receiptHash: unknown): Uint8Array {
  const text = typeof receiptHash === "string" ? receiptHash : String(receiptHash);
  if (RECEIPT_HASH.test(text)) return new Uint8Array(Buffer.from(text.slice(7), "hex"));
  return sha256(new TextEncoder().encode(text));
}

/** The RFC 6962 leaf hash of a receipt, from its receipt_hash column. */
export function receiptLeaf(receiptHash: unknown): Uint8Array {
  return leafHash(leafEntry(receiptHash));
}
