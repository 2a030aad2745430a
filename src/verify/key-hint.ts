// Which key a receipt says signed it. proof.verificationMethod is not signed
// and usually names no key (the default is "<issuer>#k1"), but a did:key, or
// an id that contains a fingerprint, does: then a wrong --public-key can be
// shown beside the key the receipts name.
import { sha256Hex } from "../receipt/canonical.ts";

const FINGERPRINT = /sha256:[0-9a-f]{64}/;
const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
// The multicodec prefix of an Ed25519 public key (varint 0xed).
const ED25519_PUB = [0xed, 0x01];

function base58Decode(text: string): Uint8Array | null {
  let n = 0n;
  for (const c of text) {
    const digit = BASE58.indexOf(c);
    if (digit < 0) return null;
    n = n * 58n + BigInt(digit);
  }
  const bytes: number[] = [];
  for (; n > 0n; n >>= 8n) bytes.unshift(Number(n & 0xffn));
  for (const c of text) {
    if (c !== "1") break;
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}

/** The fingerprint (PROTOCOL §5.5) of the key a verification method names, or null when it names none. */
export function fingerprintNamedBy(method: string): string | null {
  const literal = FINGERPRINT.exec(method);
  if (literal !== null) return literal[0];
  const didKey = /^did:key:z([1-9A-HJ-NP-Za-km-z]+)(?:#.*)?$/.exec(method);
  if (didKey === null) return null;
  const bytes = base58Decode(didKey[1]!);
  if (bytes === null || bytes.length !== 34 || bytes[0] !== ED25519_PUB[0] || bytes[1] !== ED25519_PUB[1]) return null;
  return `sha256:${sha256Hex(bytes.subarray(2))}`;
}
