// Ed25519 keys and signatures through Bun's native node:crypto.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { sha256Hex } from "./canonical.ts";

export class KeyFormatError extends Error {}

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** Parses a PKCS#8 `PRIVATE KEY` PEM holding an Ed25519 key. */
export function parsePrivateKey(pem: string): KeyObject {
  if (!pem.includes("-----BEGIN PRIVATE KEY-----")) {
    throw new KeyFormatError("not a PKCS#8 PEM private key (expected a '-----BEGIN PRIVATE KEY-----' block)");
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch (err) {
    throw new KeyFormatError(`unreadable PEM private key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new KeyFormatError(`private key is ${key.asymmetricKeyType}, not Ed25519`);
  return key;
}

/** Parses an SPKI `PUBLIC KEY` PEM holding an Ed25519 key. */
export function parsePublicKey(pem: string): KeyObject {
  if (!pem.includes("-----BEGIN PUBLIC KEY-----")) {
    throw new KeyFormatError("not an SPKI PEM public key (expected a '-----BEGIN PUBLIC KEY-----' block)");
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: "pem" });
  } catch (err) {
    throw new KeyFormatError(`unreadable PEM public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new KeyFormatError(`public key is ${key.asymmetricKeyType}, not Ed25519`);
  return key;
}

export function publicKeyOf(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey);
}

export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: "spki", format: "pem" }).toString();
}

/** The raw 32-byte Ed25519 public key (last 32 bytes of its DER SPKI). */
export function rawPublicKey(publicKey: KeyObject): Uint8Array {
  const der = publicKey.export({ type: "spki", format: "der" });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** Fingerprint `sha256:<hex of the raw 32-byte public key>`. */
export function fingerprint(publicKey: KeyObject): string {
  return `sha256:${sha256Hex(rawPublicKey(publicKey))}`;
}

export function signBytes(privateKey: KeyObject, data: string | Uint8Array): Uint8Array {
  return sign(null, typeof data === "string" ? Buffer.from(data, "utf8") : data, privateKey);
}

export function verifyBytes(publicKey: KeyObject, data: string | Uint8Array, signature: Uint8Array): boolean {
  return verify(null, typeof data === "string" ? Buffer.from(data, "utf8") : data, publicKey, signature);
}
