// Signed notes, checkpoints and tlog proofs against the examples of the C2SP
// texts (tests/fixtures/c2sp/, each file naming its source), and the
// rejections the formats require.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair, parsePrivateKey, parsePublicKey, rawPublicKey, signBytes } from "../../src/receipt/keys.ts";
import { checkpointTextOf, formatCheckpoint, parseCheckpoint, signCheckpoint } from "../../src/tlog/checkpoint.ts";
import {
  ed25519NoteSigner, ed25519VerifierKey, NoteError, openNote, parseNote, parseVerifierKey, signNote,
} from "../../src/tlog/note.ts";
import { formatTlogProof, parseTlogProof } from "../../src/tlog/proof-file.ts";
import { splitNotes } from "../../src/tlog/note-file.ts";
import { ROOT } from "../helpers/fixtures.ts";

const C2SP = join(ROOT, "tests", "fixtures", "c2sp");
const fixture = <T>(name: string) => JSON.parse(readFileSync(join(C2SP, name), "utf8")) as T;

function key(name: string) {
  const pair = generateKeyPair();
  const priv = parsePrivateKey(pair.privateKeyPem);
  const raw = rawPublicKey(parsePublicKey(pair.publicKeyPem));
  return { signer: ed25519NoteSigner(name, (m) => signBytes(priv, m), raw), vkey: ed25519VerifierKey(name, raw) };
}

describe("c2sp.org/signed-note examples", () => {
  const f = fixture<{ vkey: string; note: string; unverifiable_note: string }>("signed-note.json");

  test("the example vkey verifies the example note", () => {
    const v = parseVerifierKey(f.vkey);
    expect(v.name).toBe("example.com/foo");
    expect(Buffer.from(v.keyId).toString("hex")).toBe("530d903a");
    const opened = openNote(f.note, [v]);
    expect(opened.text).toBe("This is an example message.\n");
    expect(opened.verifiedBy).toEqual(["example.com/foo"]);
  });

  test("a changed text, or a signature moved to another text, does not verify", () => {
    const v = parseVerifierKey(f.vkey);
    expect(() => openNote(f.note.replace("example message", "example massage"), [v])).toThrow(/does not verify/);
    const sig = f.note.slice(f.note.indexOf("\u2014"));
    expect(() => openNote(`Another text.\n\n${sig}`, [v])).toThrow(/does not verify/);
  });

  test("the poem: its text keeps its inner blank line; a note signed by no known key is rejected", () => {
    const parsed = parseNote(f.unverifiable_note);
    expect(parsed.text.split("\n")).toHaveLength(5);
    expect(parsed.signatures.map((s) => s.name)).toEqual(["quasimodo.example/salvatore"]);
    expect(() => openNote(f.unverifiable_note, [parseVerifierKey(f.vkey)])).toThrow(/not signed by any known key/);
  });
});

describe("signing and opening notes", () => {
  test("round trip; the key id is SHA-256(name || 0x0A || 0x01 || key)[:4] as in the vkey", () => {
    const k = key("log.example/a");
    const note = signNote("hello\nworld\n", [k.signer]);
    expect(k.vkey.split("+")[1]).toBe(Buffer.from(k.signer.keyId).toString("hex"));
    expect(openNote(note, [parseVerifierKey(k.vkey)]).text).toBe("hello\nworld\n");
  });

  test("unknown signatures are ignored; a known key's bad signature rejects the whole note", () => {
    const a = key("log.example/a");
    const b = key("log.example/b");
    const both = signNote("text\n", [a.signer, b.signer]);
    expect(openNote(both, [parseVerifierKey(a.vkey)]).verifiedBy).toEqual(["log.example/a"]);
    // Same name, different key (so a different key id): ignored, not a failure.
    const imposter = key("log.example/a");
    expect(() => openNote(both, [parseVerifierKey(imposter.vkey)])).toThrow(/not signed by any known key/);
    // A character well inside the base64: the signature bytes change, the key id (its first 4 bytes) does not.
    const tampered = both.replace(/(\u2014 log\.example\/b \S{40})(\S)/, (_m, p: string, c: string) => `${p}${c === "A" ? "B" : "A"}`);
    expect(tampered).not.toBe(both);
    expect(() => openNote(tampered, [parseVerifierKey(a.vkey), parseVerifierKey(b.vkey)])).toThrow(NoteError);
  });

  test("malformed notes and keys are rejected with a reason", () => {
    const k = key("log.example/a");
    const v = parseVerifierKey(k.vkey);
    const good = signNote("text\n", [k.signer]);
    expect(() => openNote(good.replace("\n\n", "\n"), [v])).toThrow(/no blank line/);
    expect(() => openNote(`te\u0007xt\n${good.slice(5)}`, [v])).toThrow(/control character/);
    expect(() => openNote(good.replace(/ (\S+)\n$/, " not*base64\n"), [v])).toThrow(/not base64/);
    expect(() => openNote(`${good}junk line\n`, [v])).toThrow(/malformed note signature line/);
    expect(() => signNote("no newline", [k.signer])).toThrow(/end with a newline/);
    expect(() => ed25519NoteSigner("has space", (m) => m, new Uint8Array(32))).toThrow(/key name/);
    expect(() => parseVerifierKey("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")).toThrow(/does not match/);
    expect(() => parseVerifierKey("no-plus-signs")).toThrow(/not a note verifier key/);
    expect(() => parseVerifierKey(k.vkey.replace(/\+A/, "+B"))).toThrow(/signature type|32 bytes|malformed/);
  });
});

describe("c2sp.org/tlog-checkpoint", () => {
  const f = fixture<{ checkpoint: string }>("tlog-checkpoint.json");

  test("the spec's example parses: origin, size, 32-byte root; format gives back its text", () => {
    const text = checkpointTextOf(f.checkpoint);
    const c = parseCheckpoint(text);
    expect(c.origin).toBe("example.com/behind-the-sofa");
    expect(c.size).toBe(20852163);
    expect(c.root.length).toBe(32);
    expect(c.extensions).toEqual([]);
    expect(formatCheckpoint(c)).toBe(text);
    expect(parseNote(f.checkpoint).signatures[0]!.name).toBe("example.com/behind-the-sofa");
  });

  test("bad bodies are rejected naming the line", () => {
    const root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    expect(() => parseCheckpoint(`o\n012\n${root}\n`)).toThrow(/line 2/);
    expect(() => parseCheckpoint(`o\n-1\n${root}\n`)).toThrow(/line 2/);
    expect(() => parseCheckpoint("o\n1\nAAAA\n")).toThrow(/line 3/);
    expect(() => parseCheckpoint(`\n1\n${root}\n`)).toThrow(/line 1/);
    expect(() => parseCheckpoint(`o\n1\n${root}\n\n`)).toThrow(/extension/);
    expect(() => parseCheckpoint(`o\n1\n${root}`)).toThrow(/newline/);
    expect(parseCheckpoint(`o\n0\n${root}\next\n`).extensions).toEqual(["ext"]);
  });

  test("signed by the log key named after the origin, and opened with its vkey", () => {
    const k = key("log.example/ck");
    const note = signCheckpoint({ origin: "log.example/ck", size: 3, root: new Uint8Array(32).fill(7), extensions: [] }, k.signer);
    expect(parseCheckpoint(openNote(note, [parseVerifierKey(k.vkey)]).text).size).toBe(3);
  });
});

describe("c2sp.org/tlog-proof", () => {
  const f = fixture<{ head: string }>("tlog-proof.json");

  test("the spec's example: extra, index, five hashes, then the checkpoint; format gives it back", () => {
    const k = key("example.com/fancylog");
    const note = signNote(f.head.slice(f.head.indexOf("example.com/fancylog")).replace(/\n\n$/, "\n"), [k.signer]);
    const text = `${f.head.slice(0, f.head.indexOf("example.com/fancylog"))}${note}`;
    const p = parseTlogProof(text);
    expect(p.index).toBe(73894);
    expect(p.proof).toHaveLength(5);
    expect(p.extra).toBeDefined();
    expect(p.checkpoint).toBe(note);
    expect(formatTlogProof(p)).toBe(text);
  });

  test("bad proofs are rejected", () => {
    expect(() => parseTlogProof("c2sp.org/tlog-proof@v2\nindex 1\n\nx")).toThrow(/first line/);
    expect(() => parseTlogProof("c2sp.org/tlog-proof@v1\nindex 01\n\nx")).toThrow(/index/);
    expect(() => parseTlogProof("c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nx")).toThrow(/32-byte hash/);
    expect(() => parseTlogProof("c2sp.org/tlog-proof@v1\nindex 1\n")).toThrow(/blank line|checkpoint/);
  });
});

describe("files of notes", () => {
  test("one note, or many appended with blank lines between, come back note by note", () => {
    const k = key("log.example/f");
    const notes = [signNote("a\n1\n", [k.signer]), signNote("a\n2\n", [k.signer]), signNote("a\n3\n", [k.signer])];
    expect(splitNotes(notes[0]!).notes).toEqual([notes[0]!]);
    expect(splitNotes(notes.map((n) => `${n}\n`).join("")).notes).toEqual(notes);
    expect(splitNotes(notes.join("")).notes).toEqual(notes);
  });
});
