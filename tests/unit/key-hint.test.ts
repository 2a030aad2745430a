// Which key a verification method names (src/verify/key-hint.ts), checked
// against a did:key built here with node:crypto and a hand-written base58.
import { describe, expect, test } from "bun:test";
import { createHash, createPublicKey, generateKeyPairSync } from "node:crypto";
import { fingerprintNamedBy } from "../../src/verify/key-hint.ts";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

function base58(bytes: Buffer): string {
  let n = BigInt(`0x${bytes.toString("hex")}`);
  let text = "";
  for (; n > 0n; n /= 58n) text = ALPHABET[Number(n % 58n)] + text;
  for (const b of bytes) {
    if (b !== 0) break;
    text = `1${text}`;
  }
  return text;
}

function keyPair(): { raw: Buffer; fingerprint: string } {
  const pem = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();
  const raw = Buffer.from(createPublicKey(pem).export({ format: "jwk" }).x!, "base64url");
  return { raw, fingerprint: `sha256:${createHash("sha256").update(raw).digest("hex")}` };
}

describe("fingerprintNamedBy", () => {
  test("a did:key of an Ed25519 key, with and without a fragment", () => {
    for (let i = 0; i < 20; i++) {
      const k = keyPair();
      const id = `z${base58(Buffer.concat([Buffer.from([0xed, 0x01]), k.raw]))}`;
      expect(fingerprintNamedBy(`did:key:${id}`)).toBe(k.fingerprint);
      expect(fingerprintNamedBy(`did:key:${id}#${id}`)).toBe(k.fingerprint);
    }
  });

  test("an id that contains a fingerprint", () => {
    const k = keyPair();
    expect(fingerprintNamedBy(`did:agent-receipts-daemon:local#${k.fingerprint}`)).toBe(k.fingerprint);
  });

  test("methods that name no key", () => {
    const k = keyPair();
    expect(fingerprintNamedBy("did:agent-receipts-daemon:local#k1")).toBeNull();
    expect(fingerprintNamedBy("did:key:z0OIl")).toBeNull(); // not base58
    // Another multicodec (X25519 is 0xec 0x01) names no Ed25519 key.
    expect(fingerprintNamedBy(`did:key:z${base58(Buffer.concat([Buffer.from([0xec, 0x01]), k.raw]))}`)).toBeNull();
    expect(fingerprintNamedBy(`did:key:z${base58(Buffer.concat([Buffer.from([0xed, 0x01]), k.raw.subarray(1)]))}`)).toBeNull();
  });
});
