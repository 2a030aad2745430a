// C2SP tlog-cosignature (cosignature/v1): the spec's examples (tests/fixtures/c2sp/,
// copied verbatim with their source), and cosignatures made here checked by an
// independent Ed25519 implementation (@noble/ed25519) over the exact message.
import { describe, expect, test } from "bun:test";
import * as ed from "@noble/ed25519";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  cosignatureNoteVerifier,
  cosignatureSigner,
  cosignatureTime,
  cosignatureVerifierKey,
  cosignedMessage,
  parseCosignerKey,
  verifyCosignature,
} from "../../src/tlog/cosignature.ts";
import { ed25519NoteSigner, ed25519VerifierKey, NoteError, openNote, parseNote, signNote } from "../../src/tlog/note.ts";
import { generateKeyPair, parsePrivateKey, publicKeyOf, rawPublicKey, signBytes } from "../../src/receipt/keys.ts";
import { ROOT } from "../helpers/fixtures.ts";

const C2SP = join(ROOT, "tests", "fixtures", "c2sp");
const cosigFixture = JSON.parse(readFileSync(join(C2SP, "tlog-cosignature.json"), "utf8")) as {
  cosigned_checkpoint: string;
  signed_message_example: string;
  signed_message_time: number;
};
const witnessFixture = JSON.parse(readFileSync(join(C2SP, "tlog-witness.json"), "utf8")) as { add_checkpoint_response: string };

function newKey(): { sign: (m: Uint8Array) => Uint8Array; raw: Uint8Array; seed: Uint8Array } {
  const priv = parsePrivateKey(generateKeyPair().privateKeyPem);
  const seed = new Uint8Array(Buffer.from(priv.export({ format: "jwk" }).d!, "base64url"));
  return { sign: (m) => signBytes(priv, m), raw: rawPublicKey(publicKeyOf(priv)), seed };
}

const CHECKPOINT = "agent-receipts.test/log\n1234\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const NAME = "witness.test/w1";

function blobOf(line: string): Uint8Array {
  return new Uint8Array(Buffer.from(line.trim().split(" ").at(-1)!, "base64"));
}

describe("the examples in c2sp.org/tlog-cosignature", () => {
  const { text, signatures } = parseNote(cosigFixture.cosigned_checkpoint);
  const witness = signatures.find((s) => s.name === "witness.example.com/w1")!;

  test("the signed message is built exactly as the spec's example shows", () => {
    const message = cosignedMessage(text, cosigFixture.signed_message_time);
    expect(new TextDecoder().decode(message)).toBe(cosigFixture.signed_message_example);
  });

  test("the example cosignature is a key id, the example's timestamp and 64 signature bytes", () => {
    expect(witness.keyId.length).toBe(4);
    expect(witness.signature.length).toBe(72);
    expect(cosignatureTime(witness.signature)).toBe(cosigFixture.signed_message_time);
    // The log's own signature in the same note is a plain Ed25519 note signature, not a cosignature.
    const log = signatures.find((s) => s.name === "example.com/behind-the-sofa")!;
    expect(cosignatureTime(log.signature)).toBeNull();
  });

  test("a key that only shares the example witness's name is not taken for it", () => {
    const other = newKey();
    const vkey = cosignatureVerifierKey("witness.example.com/w1", other.raw);
    const line = cosigFixture.cosigned_checkpoint.split("\n").find((l) => l.includes("witness.example.com/w1"))!;
    expect(verifyCosignature(vkey, text, line)).toBeNull();
    // Nor does openNote accept the note with that key: no known key signed it.
    expect(() => openNote(cosigFixture.cosigned_checkpoint, [cosignatureNoteVerifier(vkey)])).toThrow(NoteError);
  });

  // Their bytes are illustrative (the timestamps are not real times), so only the shape is checked.
  test("the witness protocol's example response lines have the cosignature/v1 shape", () => {
    const lines = witnessFixture.add_checkpoint_response.split("\n").filter((l) => l !== "");
    expect(lines.length).toBe(3);
    for (const line of lines) {
      expect(line.startsWith("\u2014 witness.example/w")).toBe(true);
      const blob = blobOf(line);
      expect(blob.length).toBe(4 + 8 + 64);
    }
  });
});

describe("cosignatures made here", () => {
  test("key id and vkey follow the spec's formula (type byte 0x04)", () => {
    const k = newKey();
    const signer = cosignatureSigner(NAME, k.sign, k.raw);
    const expectedId = createHash("sha256").update(Buffer.concat([Buffer.from(`${NAME}\n`), Buffer.from([0x04]), k.raw])).digest().subarray(0, 4);
    expect(Buffer.from(signer.keyId).equals(expectedId)).toBe(true);
    const vkey = cosignatureVerifierKey(NAME, k.raw);
    expect(vkey).toBe(`${NAME}+${expectedId.toString("hex")}+${Buffer.concat([Buffer.from([0x04]), k.raw]).toString("base64")}`);
    const parsed = parseCosignerKey(vkey);
    expect(parsed.name).toBe(NAME);
    expect(Buffer.from(parsed.publicKey).equals(Buffer.from(k.raw))).toBe(true);
  });

  test("a line verifies, carries its time, and noble verifies it over the exact cosignature/v1 message", async () => {
    const k = newKey();
    const signer = cosignatureSigner(NAME, k.sign, k.raw);
    const time = 1_767_225_600;
    const line = signer.cosign(CHECKPOINT, time);
    expect(line.startsWith(`\u2014 ${NAME} `)).toBe(true);
    expect(line.endsWith("\n")).toBe(true);
    const vkey = cosignatureVerifierKey(NAME, k.raw);
    expect(verifyCosignature(vkey, CHECKPOINT, line)).toEqual({ time });
    expect(verifyCosignature(vkey, CHECKPOINT, line.trimEnd())).toEqual({ time });

    const blob = blobOf(line);
    expect(Buffer.from(blob.subarray(0, 4)).equals(Buffer.from(signer.keyId))).toBe(true);
    expect(new DataView(blob.buffer, blob.byteOffset + 4, 8).getBigUint64(0, false)).toBe(BigInt(time));
    const message = new TextEncoder().encode(`cosignature/v1\ntime ${time}\n${CHECKPOINT}`);
    expect(await ed.verifyAsync(blob.subarray(12), message, k.raw)).toBe(true);
    // Ed25519 is deterministic: noble signs the same message to the same bytes.
    expect(Buffer.from(await ed.signAsync(message, k.seed)).equals(Buffer.from(blob.subarray(12)))).toBe(true);
  });

  test("every alteration is refused", () => {
    const k = newKey();
    const signer = cosignatureSigner(NAME, k.sign, k.raw);
    const vkey = cosignatureVerifierKey(NAME, k.raw);
    const line = signer.cosign(CHECKPOINT, 1_700_000_000);
    const blob = blobOf(line);
    const relined = (b: Uint8Array, name = NAME) => `\u2014 ${name} ${Buffer.from(b).toString("base64")}\n`;

    // Another checkpoint (size, root, origin, an extension line).
    expect(verifyCosignature(vkey, CHECKPOINT.replace("1234", "1235"), line)).toBeNull();
    expect(verifyCosignature(vkey, CHECKPOINT.replace("CsUY", "DsUY"), line)).toBeNull();
    expect(verifyCosignature(vkey, `${CHECKPOINT}extension\n`, line)).toBeNull();
    expect(verifyCosignature(vkey, CHECKPOINT.slice(0, -1), line)).toBeNull();
    // Another time in the blob: the time is signed.
    const retimed = new Uint8Array(blob);
    new DataView(retimed.buffer).setBigUint64(4, 1_700_000_001n, false);
    expect(verifyCosignature(vkey, CHECKPOINT, relined(retimed))).toBeNull();
    // A flipped signature bit.
    const flipped = new Uint8Array(blob);
    flipped[40] = flipped[40]! ^ 1;
    expect(verifyCosignature(vkey, CHECKPOINT, relined(flipped))).toBeNull();
    // Same key, another name: the key id does not match.
    expect(verifyCosignature(vkey, CHECKPOINT, relined(blob, "witness.test/w2"))).toBeNull();
    // A plain (untimestamped) Ed25519 signature by the same key under the same key id.
    const plain = new Uint8Array(68);
    plain.set(blob.subarray(0, 4));
    plain.set(k.sign(new TextEncoder().encode(CHECKPOINT)), 4);
    expect(verifyCosignature(vkey, CHECKPOINT, relined(plain))).toBeNull();
    // Another witness key under the same name.
    expect(verifyCosignature(cosignatureVerifierKey(NAME, newKey().raw), CHECKPOINT, line)).toBeNull();
    // Two lines, or junk, are not one signature line.
    expect(verifyCosignature(vkey, CHECKPOINT, line + line)).toBeNull();
    expect(verifyCosignature(vkey, CHECKPOINT, "\u2014 witness.test/w1 not-base64!\n")).toBeNull();
    // A zero timestamp is refused (the protocol forbids omitting it).
    const zero = new Uint8Array(blob);
    new DataView(zero.buffer).setBigUint64(4, 0n, false);
    expect(verifyCosignature(vkey, CHECKPOINT, relined(zero))).toBeNull();
  });

  test("openNote checks a witness cosignature next to the log's signature", () => {
    const logKey = newKey();
    const witnessKey = newKey();
    const logSigner = ed25519NoteSigner("agent-receipts.test/log", logKey.sign, logKey.raw);
    const note = signNote(CHECKPOINT, [logSigner]);
    const cosigned = note + cosignatureSigner(NAME, witnessKey.sign, witnessKey.raw).cosign(CHECKPOINT, 1_700_000_000);
    const vkey = cosignatureVerifierKey(NAME, witnessKey.raw);
    expect(openNote(cosigned, [cosignatureNoteVerifier(vkey)]).verifiedBy).toEqual([NAME]);
    // The log's key does not verify as a witness, nor the witness's as the log.
    expect(() => openNote(note, [cosignatureNoteVerifier(vkey)])).toThrow(NoteError);
    expect(() => parseCosignerKey(ed25519VerifierKey("agent-receipts.test/log", logKey.raw))).toThrow(/0x01/);
  });

  test("bad inputs are refused with a reason", () => {
    const k = newKey();
    const signer = cosignatureSigner(NAME, k.sign, k.raw);
    expect(() => signer.cosign(CHECKPOINT, 0)).toThrow(NoteError);
    expect(() => signer.cosign(CHECKPOINT, 1.5)).toThrow(NoteError);
    expect(() => signer.cosign(CHECKPOINT.slice(0, -1), 1)).toThrow(/newline/);
    expect(() => cosignatureSigner("has space", k.sign, k.raw)).toThrow(NoteError);
    expect(() => cosignatureSigner("a+b", k.sign, k.raw)).toThrow(NoteError);
    const vkey = cosignatureVerifierKey(NAME, k.raw);
    // The base64 key material may itself hold "+": cut by position, not by splitting.
    expect(() => parseCosignerKey(`${NAME}+00000000+${vkey.slice(NAME.length + 10)}`)).toThrow(/key id/);
    expect(() => parseCosignerKey("not a vkey")).toThrow(NoteError);
  });
});
