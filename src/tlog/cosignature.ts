// C2SP tlog-cosignature, cosignature/v1: a witness's timestamped Ed25519 note
// signature (key type 0x04) over a checkpoint. The signed message is
// "cosignature/v1\ntime <T>\n" followed by the checkpoint's note text; the
// signature blob is keyid(4) || u64 big-endian T || Ed25519 signature(64).
import { verify as cryptoVerify } from "node:crypto";
import {
  ed25519PublicKeyFromRaw,
  encodeBase64,
  formatSignatureLine,
  isValidKeyName,
  NoteError,
  noteKeyId,
  parseSignatureLines,
  SIG_TYPE_COSIGNATURE_V1,
  splitVerifierKey,
  type NoteVerifier,
} from "./note.ts";

const encoder = new TextEncoder();
/** The spec caps timestamps at 2^63 - 1; a JS number is exact only up to 2^53 - 1, which is far beyond any real time. */
const MAX_TIME = Number.MAX_SAFE_INTEGER;

export interface CosignatureSigner {
  readonly name: string;
  readonly keyId: Uint8Array;
  /** The note signature line for `checkpointText` (the note text, ending in "\n"), newline included. */
  cosign(checkpointText: string, time: number): string;
}

export interface CosignerKey {
  readonly name: string;
  readonly keyId: Uint8Array;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) throw new NoteError(`invalid cosigner name ${JSON.stringify(name)}: it must be non-empty, without spaces or "+"`);
}

function checkTime(time: number): void {
  if (!Number.isSafeInteger(time) || time <= 0) throw new NoteError(`a cosignature time is a positive whole number of seconds, got ${time}`);
}

/** The exact bytes an Ed25519 cosignature/v1 signs. */
export function cosignedMessage(checkpointText: string, time: number): Uint8Array {
  if (!checkpointText.endsWith("\n")) throw new NoteError("checkpoint text must end with a newline");
  return encoder.encode(`cosignature/v1\ntime ${time}\n${checkpointText}`);
}

/** keyId = SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4] */
export function cosignerKeyId(name: string, rawPublicKey: Uint8Array): Uint8Array {
  return noteKeyId(name, SIG_TYPE_COSIGNATURE_V1, rawPublicKey);
}

export function cosignatureSigner(name: string, sign: (m: Uint8Array) => Uint8Array, rawPublicKey: Uint8Array): CosignatureSigner {
  checkName(name);
  if (rawPublicKey.length !== 32) throw new NoteError(`an Ed25519 public key is 32 bytes, got ${rawPublicKey.length}`);
  const keyId = cosignerKeyId(name, rawPublicKey);
  return {
    name,
    keyId,
    cosign(checkpointText, time) {
      checkTime(time);
      const signature = sign(cosignedMessage(checkpointText, time));
      if (signature.length !== 64) throw new NoteError(`an Ed25519 signature is 64 bytes, got ${signature.length}`);
      const body = new Uint8Array(72);
      new DataView(body.buffer).setBigUint64(0, BigInt(time), false);
      body.set(signature, 8);
      return formatSignatureLine(name, keyId, body);
    },
  };
}

/** "<name>+<hex keyid>+<base64(0x04 || pubkey)>" */
export function cosignatureVerifierKey(name: string, rawPublicKey: Uint8Array): string {
  checkName(name);
  if (rawPublicKey.length !== 32) throw new NoteError(`an Ed25519 public key is 32 bytes, got ${rawPublicKey.length}`);
  const material = new Uint8Array(33);
  material[0] = SIG_TYPE_COSIGNATURE_V1;
  material.set(rawPublicKey, 1);
  return `${name}+${Buffer.from(cosignerKeyId(name, rawPublicKey)).toString("hex")}+${encodeBase64(material)}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Parses a cosignature/v1 vkey; throws NoteError naming what is wrong. */
export function parseCosignerKey(vkey: string): CosignerKey {
  const parts = splitVerifierKey(vkey);
  if (parts.type !== SIG_TYPE_COSIGNATURE_V1) {
    const hint = parts.type === 0x01 ? " (a log's Ed25519 note key, not a witness key)" : "";
    throw new NoteError(`verifier key ${JSON.stringify(parts.name)} has signature type 0x${parts.type.toString(16).padStart(2, "0")}${hint}, not a cosignature/v1 witness key (0x04)`);
  }
  if (parts.publicKey.length !== 32) throw new NoteError(`witness key ${JSON.stringify(parts.name)}: an Ed25519 key is 32 bytes, got ${parts.publicKey.length}`);
  if (!sameBytes(parts.keyId, cosignerKeyId(parts.name, parts.publicKey))) {
    throw new NoteError(`witness key ${JSON.stringify(parts.name)}: key id ${Buffer.from(parts.keyId).toString("hex")} does not match its name and key`);
  }
  // Fails here, not at the first verification, when the key bytes are unusable.
  ed25519PublicKeyFromRaw(parts.publicKey);
  return { name: parts.name, keyId: parts.keyId, publicKey: parts.publicKey };
}

/** The timestamp of a cosignature blob (after the key id), or null when it is not 8 + 64 bytes or out of range. */
export function cosignatureTime(signature: Uint8Array): number | null {
  if (signature.length !== 72) return null;
  const t = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0, false);
  return t > 0n && t <= BigInt(MAX_TIME) ? Number(t) : null;
}

/**
 * A NoteVerifier for a witness key, so openNote can check cosignatures on a
 * checkpoint note: the note text is the checkpoint, the signature carries the time.
 */
export function cosignatureNoteVerifier(vkey: string | CosignerKey): NoteVerifier {
  const key = typeof vkey === "string" ? parseCosignerKey(vkey) : vkey;
  const publicKey = ed25519PublicKeyFromRaw(key.publicKey);
  return {
    name: key.name,
    keyId: key.keyId,
    verify(message, signature) {
      const time = cosignatureTime(signature);
      if (time === null) return false;
      const prefix = encoder.encode(`cosignature/v1\ntime ${time}\n`);
      const full = new Uint8Array(prefix.length + message.length);
      full.set(prefix, 0);
      full.set(message, prefix.length);
      return cryptoVerify(null, full, publicKey, signature.subarray(8));
    },
  };
}

/**
 * Verifies one signature line (with or without its newline) by the witness
 * `vkey` over `checkpointText`. Null when the line is another key's, malformed,
 * or does not verify; throws NoteError only for a malformed vkey.
 */
export function verifyCosignature(vkey: string | CosignerKey, checkpointText: string, signatureLine: string): { time: number } | null {
  const key = typeof vkey === "string" ? parseCosignerKey(vkey) : vkey;
  if (!checkpointText.endsWith("\n")) return null;
  let lines;
  try {
    lines = parseSignatureLines(signatureLine.endsWith("\n") ? signatureLine : `${signatureLine}\n`);
  } catch {
    return null;
  }
  const parsed = lines[0];
  if (lines.length !== 1 || parsed === undefined || parsed.name !== key.name || !sameBytes(parsed.keyId, key.keyId)) return null;
  const time = cosignatureTime(parsed.signature);
  if (time === null) return null;
  const ok = cosignatureNoteVerifier(key).verify(encoder.encode(checkpointText), parsed.signature);
  return ok ? { time } : null;
}
