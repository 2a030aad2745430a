// What signs receipts: the private key stays inside the source, so holders
// can sign and publish, never export it.
import type { KeyObject } from "node:crypto";
import { fingerprint, publicKeyOf, publicKeyPem, signBytes } from "./keys.ts";

export interface KeySource {
  sign(data: string | Uint8Array): Uint8Array;
  readonly publicKey: KeyObject;
  readonly publicKeyPem: string;
  /** `sha256:<hex of the raw 32-byte public key>` */
  readonly fingerprint: string;
}

export function keySourceOf(privateKey: KeyObject): KeySource {
  const publicKey = publicKeyOf(privateKey);
  return {
    sign: (data) => signBytes(privateKey, data),
    publicKey,
    publicKeyPem: publicKeyPem(publicKey),
    fingerprint: fingerprint(publicKey),
  };
}
