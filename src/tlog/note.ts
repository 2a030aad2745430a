// C2SP signed-note: a text ending in a newline, a blank line, then one or
// more signature lines "— <name> <base64(keyid4 || signature)>". Used for the
// log's checkpoints (Ed25519, type 0x01) and witnesses' cosignatures (0x04,
// parsed by cosignature.ts through splitVerifierKey).
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from "node:crypto";

export class NoteError extends Error {}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: Uint8Array /* 4 bytes */;
  sign(message: Uint8Array): Uint8Array;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Uint8Array;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  signature: Uint8Array;
}

export interface OpenedNote {
  text: string;
  signatures: NoteSignature[];
  /** names of verifiers that verified */
  verifiedBy: string[];
}

export const SIG_TYPE_ED25519 = 0x01;
export const SIG_TYPE_COSIGNATURE_V1 = 0x04;

/** The spec requires accepting at least 16; a bound keeps hostile notes cheap. */
const MAX_SIGNATURES = 100;
const EM_DASH_PREFIX = "\u2014 ";
const encoder = new TextEncoder();

/** key ID = SHA-256(key name || 0x0A || type || public key)[:4] */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): Uint8Array {
  const h = createHash("sha256");
  h.update(encoder.encode(name));
  h.update(new Uint8Array([0x0a, type]));
  h.update(publicKey);
  return new Uint8Array(h.digest().subarray(0, 4));
}

/** Key names: non-empty, no Unicode spaces, no "+". */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u.test(name) && !hasControl(name);
}

function hasControl(s: string): boolean {
  return /[\u0000-\u0009\u000b-\u001f]/.test(s);
}

/** Standard base64 (RFC 4648 §4), padded, canonical: Buffer's decoder alone accepts junk. */
export function decodeBase64Strict(s: string): Uint8Array | null {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const bytes = Buffer.from(s, "base64");
  if (bytes.toString("base64") !== s) return null;
  return new Uint8Array(bytes);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** A node:crypto public key from the raw 32-byte RFC 8032 encoding. */
export function ed25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new NoteError(`an Ed25519 public key is 32 bytes, got ${raw.length}`);
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
  } catch (err) {
    throw new NoteError(`unusable Ed25519 public key: ${(err as Error).message}`);
  }
}

/** Ed25519 note key: keyId = SHA-256(name || 0x0A || 0x01 || 32-byte public key)[0:4]. */
export function ed25519NoteSigner(name: string, sign: (m: Uint8Array) => Uint8Array, rawPublicKey: Uint8Array): NoteSigner {
  if (!isValidKeyName(name)) throw new NoteError(`invalid note key name ${JSON.stringify(name)}: it must be non-empty, without spaces or "+"`);
  if (rawPublicKey.length !== 32) throw new NoteError(`an Ed25519 public key is 32 bytes, got ${rawPublicKey.length}`);
  return { name, keyId: noteKeyId(name, SIG_TYPE_ED25519, rawPublicKey), sign };
}

/** "<name>+<hex keyid>+<base64(0x01 || pubkey)>" */
export function ed25519VerifierKey(name: string, rawPublicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new NoteError(`invalid note key name ${JSON.stringify(name)}: it must be non-empty, without spaces or "+"`);
  if (rawPublicKey.length !== 32) throw new NoteError(`an Ed25519 public key is 32 bytes, got ${rawPublicKey.length}`);
  const material = new Uint8Array(33);
  material[0] = SIG_TYPE_ED25519;
  material.set(rawPublicKey, 1);
  return `${name}+${hex(noteKeyId(name, SIG_TYPE_ED25519, rawPublicKey))}+${encodeBase64(material)}`;
}

export interface VerifierKeyParts {
  name: string;
  keyId: Uint8Array;
  type: number;
  /** the key material after the type byte */
  publicKey: Uint8Array;
}

/** Splits a vkey into its parts without interpreting the key type. */
export function splitVerifierKey(vkey: string): VerifierKeyParts {
  const text = vkey.trim();
  const first = text.indexOf("+");
  const second = first < 0 ? -1 : text.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw new NoteError(`not a note verifier key (expected <name>+<hex key id>+<base64 key>): ${JSON.stringify(abbreviate(text))}`);
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  if (!isValidKeyName(name)) throw new NoteError(`verifier key has an invalid key name ${JSON.stringify(name)}`);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new NoteError(`verifier key ${JSON.stringify(name)} has a malformed key id ${JSON.stringify(idHex)} (expected 8 lowercase hex digits)`);
  const material = decodeBase64Strict(text.slice(second + 1));
  if (material === null || material.length < 2) throw new NoteError(`verifier key ${JSON.stringify(name)} has malformed base64 key material`);
  return { name, keyId: new Uint8Array(Buffer.from(idHex, "hex")), type: material[0]!, publicKey: material.subarray(1) };
}

function abbreviate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** An Ed25519 (type 0x01) note verifier from its raw public key. */
export function ed25519NoteVerifier(name: string, rawPublicKey: Uint8Array): NoteVerifier {
  const key = ed25519PublicKeyFromRaw(rawPublicKey);
  return {
    name,
    keyId: noteKeyId(name, SIG_TYPE_ED25519, rawPublicKey),
    verify: (message, signature) => signature.length === 64 && cryptoVerify(null, message, key, signature),
  };
}

/** Parses a vkey of any type it knows (0x01 Ed25519; 0x04 cosignature/v1 keys are parsed by src/tlog/cosignature.ts). */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const parts = splitVerifierKey(vkey);
  if (parts.type !== SIG_TYPE_ED25519) {
    const kind = parts.type === SIG_TYPE_COSIGNATURE_V1 ? " (a witness cosignature/v1 key: use it as a --witness key)" : "";
    throw new NoteError(`verifier key ${JSON.stringify(parts.name)} has signature type 0x${parts.type.toString(16).padStart(2, "0")}${kind}, not Ed25519 (0x01)`);
  }
  if (parts.publicKey.length !== 32) throw new NoteError(`verifier key ${JSON.stringify(parts.name)}: an Ed25519 key is 32 bytes, got ${parts.publicKey.length}`);
  if (!sameBytes(parts.keyId, noteKeyId(parts.name, SIG_TYPE_ED25519, parts.publicKey))) {
    throw new NoteError(`verifier key ${JSON.stringify(parts.name)}: key id ${hex(parts.keyId)} does not match its name and key`);
  }
  return ed25519NoteVerifier(parts.name, parts.publicKey);
}

/** One signature line, newline included: "— <name> <base64(keyid || sig)>\n". */
export function formatSignatureLine(name: string, keyId: Uint8Array, signature: Uint8Array): string {
  const blob = new Uint8Array(keyId.length + signature.length);
  blob.set(keyId, 0);
  blob.set(signature, keyId.length);
  return `${EM_DASH_PREFIX}${name} ${encodeBase64(blob)}\n`;
}

function checkText(text: string): void {
  if (!text.endsWith("\n")) throw new NoteError("note text must end with a newline");
  if (hasControl(text)) throw new NoteError("note text contains a control character other than newline");
}

export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text);
  if (signers.length === 0) throw new NoteError("a signed note needs at least one signer");
  const message = encoder.encode(text);
  let out = `${text}\n`;
  for (const s of signers) {
    if (!isValidKeyName(s.name)) throw new NoteError(`invalid note key name ${JSON.stringify(s.name)}`);
    if (s.keyId.length !== 4) throw new NoteError(`note key ${s.name}: key id must be 4 bytes`);
    out += formatSignatureLine(s.name, s.keyId, s.sign(message));
  }
  return out;
}

/** Parses the signature lines (each ending in "\n") into signatures; throws on malformed ones. */
export function parseSignatureLines(block: string): NoteSignature[] {
  if (!block.endsWith("\n")) throw new NoteError("note signature block must end with a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw new NoteError(`note has more than ${MAX_SIGNATURES} signatures`);
  return lines.map(parseSignatureLine);
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(EM_DASH_PREFIX)) throw new NoteError(`malformed note signature line ${JSON.stringify(abbreviate(line))} (expected "— <name> <base64>")`);
  const rest = line.slice(EM_DASH_PREFIX.length);
  const space = rest.lastIndexOf(" ");
  const name = space < 0 ? "" : rest.slice(0, space);
  if (!isValidKeyName(name)) throw new NoteError(`malformed note signature line ${JSON.stringify(abbreviate(line))}: bad key name`);
  const blob = decodeBase64Strict(rest.slice(space + 1));
  if (blob === null || blob.length < 5) throw new NoteError(`malformed note signature by ${JSON.stringify(name)}: not base64 of a key id and a signature`);
  return { name, keyId: blob.slice(0, 4), signature: blob.slice(4) };
}

/** Splits a note into its text and signatures without verifying anything. */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  if (hasControl(note)) throw new NoteError("note contains a control character other than newline");
  if (note.includes("\uFFFD")) throw new NoteError("note is not valid UTF-8");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("not a signed note: no blank line before the signatures");
  const text = note.slice(0, split + 1);
  const signatures = parseSignatureLines(note.slice(split + 2));
  if (signatures.length === 0) throw new NoteError("note has no signatures");
  return { text, signatures };
}

/** Throws NoteError on a malformed note, or when none of `verifiers` verifies it. */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const { text, signatures } = parseNote(note);
  const message = encoder.encode(text);
  const verifiedBy: string[] = [];
  const seen = new Set<string>();
  for (const sig of signatures) {
    // Unknown keys are ignored; a known key (name and id) must verify.
    const v = verifiers.find((k) => k.name === sig.name && sameBytes(k.keyId, sig.keyId));
    if (v === undefined) continue;
    if (!v.verify(message, sig.signature)) throw new NoteError(`note signature by ${sig.name} (key id ${hex(sig.keyId)}) does not verify`);
    const id = `${v.name}+${hex(v.keyId)}`;
    if (!seen.has(id)) {
      seen.add(id);
      verifiedBy.push(v.name);
    }
  }
  if (verifiedBy.length === 0) {
    const names = verifiers.map((v) => `${v.name}+${hex(v.keyId)}`).join(", ");
    throw new NoteError(`note is not signed by any known key (known: ${names || "none"}; signed by: ${signatures.map((s) => `${s.name}+${hex(s.keyId)}`).join(", ")})`);
  }
  return { text, signatures, verifiedBy };
}
