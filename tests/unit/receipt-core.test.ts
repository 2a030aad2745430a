// Receipt core: canonical JSON, payload hashes, keys, proofValue encoding,
// interoperability with an independent Ed25519 implementation, and the
// receipt builder's mapping rules (docs/protocol.md §4, §5, §6).
import { test, expect, describe } from "bun:test";
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ed from "@noble/ed25519";
import {
  buildDropReceipt, buildEventReceipt, buildTerminator, CHAIN_INTERRUPTED_TYPE, EVENTS_DROPPED_TYPE,
  type AttestedPeer, type ChainPosition,
} from "../../src/daemon/pipeline/builder.ts";
import { CanonicalizationError, canonicalJson, canonicalReceipt, payloadHash, receiptHash } from "../../src/receipt/canonical.ts";
import {
  fingerprint, generateKeyPair, KeyFormatError, parsePrivateKey, parsePublicKey, publicKeyOf, publicKeyPem, rawPublicKey, signBytes, verifyBytes,
} from "../../src/receipt/keys.ts";
import { decodeProofValue, encodeProofValue, MalformedProofError, signatureOf, verifyProof } from "../../src/receipt/proof.ts";
import { REDACTED } from "../../src/daemon/pipeline/redact.ts";
import { hashReceipt, signReceipt } from "../../src/receipt/seal.ts";
import { keySourceOf } from "../../src/receipt/key-source.ts";
import type { SignedReceipt, UnsignedReceipt } from "../../src/receipt/types.ts";
import { checkReceipt } from "../../src/verify/check-receipt.ts";
import type { Frame } from "../../src/protocol/frame-schema.ts";
import { frame, TEST_PEER, VECTORS } from "../helpers/fixtures.ts";

ed.hashes.sha512 = (msg: Uint8Array) => new Uint8Array(createHash("sha512").update(msg).digest());

const sha256 = (text: string | Uint8Array) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
const CONFIG = { issuerId: "did:agent-receipts-daemon:local" };
const NOW = "2026-06-13T10:20:30.456Z";
const POS: ChainPosition = { chainId: "2026-06-13", sequence: 7, previousHash: `sha256:${"ab".repeat(32)}` };
const UUID_V4 = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

function event(extra: Partial<Frame> = {}, peer: AttestedPeer | null = TEST_PEER): UnsignedReceipt {
  return buildEventReceipt(frame(1, extra), peer, POS, NOW, CONFIG);
}

/** Every null in a receipt, by path. */
function nullPaths(v: unknown, path = ""): string[] {
  if (v === null) return [path];
  if (v === undefined) return [`${path} (undefined)`];
  if (Array.isArray(v)) return v.flatMap((x, i) => nullPaths(x, `${path}[${i}]`));
  if (typeof v === "object") return Object.entries(v as object).flatMap(([k, x]) => nullPaths(x, `${path}.${k}`));
  return [];
}

describe("canonicalJson", () => {
  test.each([
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["-Infinity", -Infinity],
    ["nested NaN", { a: [1, { b: NaN }] }],
    ["1e400 parsed", JSON.parse('{"x":1e400}')],
    ["a lone high surrogate", "ab\ud800"],
    ["a lone low surrogate in an array", ["\udc00x"]],
    ["a lone surrogate in a key", { "\ud83c": 1 }],
    ["a reversed surrogate pair", "\udf89\ud83c"],
  ])("rejects %s with CanonicalizationError", (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(CanonicalizationError);
  });

  test("accepts a well-formed surrogate pair and -0", () => {
    expect(canonicalJson({ s: "\ud83c\udf89" })).toBe('{"s":"🎉"}');
    expect(canonicalJson([-0, 0])).toBe("[0,0]");
  });

  test("canonicalReceipt drops proof and nothing else", () => {
    const r = { b: 1, proof: { x: 1 }, a: { proof: 2 } };
    expect(canonicalReceipt(r)).toBe('{"a":{"proof":2},"b":1}');
    expect(canonicalReceipt({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });
});

describe("payloadHash", () => {
  // Each expected canonical text is written out by hand from RFC 8785.
  test.each([
    ["nested object", { z: { b: [true, null], a: "x" }, a: 1 }, '{"a":1,"z":{"a":"x","b":[true,null]}}'],
    ["unicode", { "é": "ü\u00e9", "\u00ff": "🎉", "\u0100": "\u2028" }, '{"é":"üé","ÿ":"🎉","Ā":"\u2028"}'],
    ["control characters", { t: "a\tb\n\u0001\u001f\"\\" }, '{"t":"a\\tb\\n\\u0001\\u001f\\"\\\\"}'],
    ["array", [3, "b", { y: 2, x: 1 }, []], '[3,"b",{"x":1,"y":2},[]]'],
    ["string", "hello", '"hello"'],
    ["number", 1.5e21, "1.5e+21"],
    ["small number", 0.000001, "0.000001"],
    ["boolean", false, "false"],
    ["null", null, "null"],
    ["empty object", {}, "{}"],
  ])("%s", (_name, value, canonical) => {
    expect(canonicalJson(value)).toBe(canonical);
    expect(payloadHash(value)).toBe(sha256(Buffer.from(canonical, "utf8")));
    expect(payloadHash(value)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test("key order of the input does not change the hash", () => {
    expect(payloadHash({ a: 1, b: [1, 2] })).toBe(payloadHash({ b: [1, 2], a: 1 }));
    expect(payloadHash([1, 2])).not.toBe(payloadHash([2, 1]));
  });
});

describe("keys", () => {
  test("generate: PKCS#8 private and SPKI public PEM of an Ed25519 pair", () => {
    const pair = generateKeyPair();
    expect(pair.privateKeyPem).toContain("-----BEGIN PRIVATE KEY-----");
    expect(pair.publicKeyPem).toContain("-----BEGIN PUBLIC KEY-----");
    const priv = parsePrivateKey(pair.privateKeyPem);
    const pub = parsePublicKey(pair.publicKeyPem);
    expect(priv.asymmetricKeyType).toBe("ed25519");
    expect(pub.asymmetricKeyType).toBe("ed25519");
    expect(publicKeyPem(publicKeyOf(priv))).toBe(pair.publicKeyPem);
    expect(publicKeyPem(pub)).toBe(pair.publicKeyPem);
    expect(generateKeyPair().publicKeyPem).not.toBe(pair.publicKeyPem);
  });

  test("sign and verify round trip; another key or message fails", () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const sig = signBytes(parsePrivateKey(a.privateKeyPem), "message");
    expect(sig.length).toBe(64);
    expect(verifyBytes(parsePublicKey(a.publicKeyPem), "message", sig)).toBe(true);
    expect(verifyBytes(parsePublicKey(a.publicKeyPem), "messagf", sig)).toBe(false);
    expect(verifyBytes(parsePublicKey(b.publicKeyPem), "message", sig)).toBe(false);
  });

  test("fingerprint is sha256 of the raw 32-byte key taken from the DER", () => {
    for (let i = 0; i < 5; i++) {
      const pem = generateKeyPair().publicKeyPem;
      // Independent: decode the PEM body ourselves; SPKI Ed25519 is a fixed 12-byte header + 32 key bytes.
      const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
      expect(der.length).toBe(44);
      expect(der.subarray(0, 12).toString("hex")).toBe("302a300506032b6570032100");
      const raw = der.subarray(12);
      const jwkX = Buffer.from(createPublicKey(pem).export({ format: "jwk" }).x!, "base64url");
      expect(raw.equals(jwkX)).toBe(true);
      expect(Buffer.from(rawPublicKey(parsePublicKey(pem))).equals(raw)).toBe(true);
      expect(fingerprint(parsePublicKey(pem))).toBe(sha256(raw));
    }
  });

  test("the shared vector key has the fingerprint of its raw bytes", () => {
    const keys = (JSON.parse(readFileSync(join(VECTORS, "go_vectors.json"), "utf8")) as { keys: { publicKey: string } }).keys;
    const raw = Buffer.from(createPublicKey(keys.publicKey).export({ format: "jwk" }).x!, "base64url");
    expect(fingerprint(parsePublicKey(keys.publicKey))).toBe(sha256(raw));
  });

  test("non-Ed25519 and non-PEM keys are refused with KeyFormatError", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const x25519 = generateKeyPairSync("x25519");
    const ed = generateKeyPair();
    const bad: Array<[string, () => unknown]> = [
      ["not PEM", () => parsePublicKey("hello")],
      ["empty", () => parsePublicKey("")],
      ["RSA SPKI", () => parsePublicKey(rsa.publicKey.export({ type: "spki", format: "pem" }).toString())],
      ["X25519 SPKI", () => parsePublicKey(x25519.publicKey.export({ type: "spki", format: "pem" }).toString())],
      ["a private key as public", () => parsePublicKey(ed.privateKeyPem)],
      ["a corrupt body", () => parsePublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")],
      ["a public key as private", () => parsePrivateKey(ed.publicKeyPem)],
      ["RSA PKCS#8", () => parsePrivateKey(rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString())],
      ["X25519 PKCS#8", () => parsePrivateKey(x25519.privateKey.export({ type: "pkcs8", format: "pem" }).toString())],
    ];
    for (const [name, fn] of bad) {
      let error: unknown;
      try {
        fn();
      } catch (err) {
        error = err;
      }
      expect({ name, keyFormatError: error instanceof KeyFormatError }).toEqual({ name, keyFormatError: true });
    }
  });
});

describe("proofValue", () => {
  const sig = new Uint8Array(randomBytes(64));
  const good = encodeProofValue(sig);

  test("encodes u + unpadded base64url of 64 bytes (87 characters) and decodes back", () => {
    expect(good.length).toBe(87);
    expect(good).toMatch(/^u[A-Za-z0-9_-]{86}$/);
    expect(good.slice(1)).toBe(Buffer.from(sig).toString("base64url"));
    expect(Buffer.from(decodeProofValue(good)).equals(Buffer.from(sig))).toBe(true);
  });

  const b64 = Buffer.from(sig).toString("base64url");
  const std = Buffer.from(sig).toString("base64");
  // Make sure the standard alphabet version really differs (has + or /); else force one.
  const withStdChar = /[+/]/.test(std) ? `u${std.replace(/=+$/, "")}` : `u+${b64.slice(1)}`;
  const lastChar = b64[b64.length - 1]!;
  // The last of 86 chars carries 4 payload bits + 2 zero bits; setting a low bit keeps the length but is non-canonical.
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const nonCanonical = `u${b64.slice(0, -1)}${alphabet[alphabet.indexOf(lastChar) | 1]}`;

  test.each([
    ["missing u prefix", b64],
    ["another multibase prefix", `z${b64}`],
    ["uppercase U", `U${b64}`],
    ["a non-base64url character", `u${b64.slice(0, 10)}*${b64.slice(11)}`],
    ["standard base64 alphabet", withStdChar],
    ["padding =", `${good}==`],
    ["63 bytes", `u${Buffer.from(randomBytes(63)).toString("base64url")}`],
    ["65 bytes", `u${Buffer.from(randomBytes(65)).toString("base64url")}`],
    ["empty", "u"],
    ["whitespace", `u${b64.slice(0, 40)} ${b64.slice(40)}`],
    ["non-canonical final character", nonCanonical],
    ["not a string", 12345],
  ])("rejects %s with MalformedProofError", (_name, value) => {
    expect(() => decodeProofValue(value)).toThrow(MalformedProofError);
  });

  test("encode refuses a signature that is not 64 bytes", () => {
    expect(() => encodeProofValue(new Uint8Array(63))).toThrow(MalformedProofError);
    expect(() => encodeProofValue(new Uint8Array(65))).toThrow(MalformedProofError);
  });

  test("proof.type must be Ed25519Signature2020; proof must be an object", () => {
    const proof = { type: "Ed25519Signature2020", created: NOW, verificationMethod: "x#k1", proofPurpose: "assertionMethod", proofValue: good };
    expect(Buffer.from(signatureOf(proof)).equals(Buffer.from(sig))).toBe(true);
    for (const bad of [{ ...proof, type: "Ed25519Signature2018" }, { ...proof, type: undefined }, { ...proof, proofValue: undefined }, null, undefined, "x"]) {
      expect(() => signatureOf(bad)).toThrow(MalformedProofError);
    }
    const pub = parsePublicKey(generateKeyPair().publicKeyPem);
    expect(() => verifyProof(pub, "{}", { ...proof, type: "JsonWebSignature2020" })).toThrow(MalformedProofError);
  });
});

describe("signed receipts interoperate with @noble/ed25519", () => {
  test("noble verifies signatures made by this project, and signs the same bytes identically", async () => {
    const pair = generateKeyPair();
    const priv = parsePrivateKey(pair.privateKeyPem);
    const pubRaw = rawPublicKey(parsePublicKey(pair.publicKeyPem));
    const seed = new Uint8Array(Buffer.from(priv.export({ format: "jwk" }).d!, "base64url"));
    expect(Buffer.from(ed.getPublicKey(seed)).equals(Buffer.from(pubRaw))).toBe(true);
    for (const extra of [{}, { error: "boom", input: { q: "日本語 🎉" }, agent_id: "sub-1", usage: { tokens: 12 } }] as Array<Partial<Frame>>) {
      const hashed = hashReceipt(event(extra));
      const signed = JSON.parse(signReceipt(hashed, keySourceOf(priv), `${CONFIG.issuerId}#k1`)) as SignedReceipt;
      const msg = new TextEncoder().encode(canonicalReceipt(signed));
      const sigBytes = decodeProofValue(signed.proof.proofValue);
      expect(await ed.verifyAsync(sigBytes, msg, pubRaw)).toBe(true);
      expect(ed.verify(sigBytes, msg, pubRaw)).toBe(true);
      expect(Buffer.from(ed.sign(msg, seed)).equals(Buffer.from(sigBytes))).toBe(true);
      const tampered = new TextEncoder().encode(canonicalReceipt({ ...signed, version: "0.5.1" }));
      expect(await ed.verifyAsync(sigBytes, tampered, pubRaw)).toBe(false);
      // And the project's verifier accepts it and computes the same hash as the seal step.
      const checked = checkReceipt(JSON.stringify(signed), parsePublicKey(pair.publicKeyPem));
      expect(checked.problem).toBeUndefined();
      expect(checked.hash).toBe(hashed.hash);
      expect(receiptHash(signed)).toBe(sha256(msg));
    }
  });
});

describe("buildEventReceipt: docs/protocol.md §4 mapping", () => {
  test("envelope, ids, chain position and the one clock reading", () => {
    const r = event();
    expect(r["@context"]).toEqual(["https://www.w3.org/ns/credentials/v2", "https://agentreceipts.ai/context/v2"]);
    expect(r.type).toEqual(["VerifiableCredential", "AgentReceipt"]);
    expect(r.version).toBe("0.5.0");
    expect(r.id).toMatch(new RegExp(`^urn:receipt:${UUID_V4}$`));
    expect(r.credentialSubject.action.id).toMatch(new RegExp(`^act_${UUID_V4}$`));
    expect(event().id).not.toBe(r.id);
    expect(r.issuer).toEqual({ id: CONFIG.issuerId, type: "AgentReceiptsDaemon", session_id: "sess-test" });
    expect(r.credentialSubject.chain).toEqual({ sequence: POS.sequence, previous_receipt_hash: POS.previousHash, chain_id: POS.chainId });
    expect(r.credentialSubject.action.tool_name).toBe("read_file");
    const first = buildEventReceipt(frame(1), TEST_PEER, { chainId: "c", sequence: 1, previousHash: null }, NOW, CONFIG);
    expect(first.credentialSubject.chain.previous_receipt_hash).toBeNull();
    expect("previous_receipt_hash" in first.credentialSubject.chain).toBe(true);
  });

  test("issuanceDate, action.timestamp and proof.created are the same reading", () => {
    const pair = generateKeyPair();
    const r = event();
    expect(r.issuanceDate).toBe(NOW);
    expect(r.credentialSubject.action.timestamp).toBe(NOW);
    const signed = JSON.parse(signReceipt(hashReceipt(r), keySourceOf(parsePrivateKey(pair.privateKeyPem)), "did:x#k1")) as SignedReceipt;
    expect(signed.proof.created).toBe(NOW);
    expect(signed.issuanceDate).toBe(signed.credentialSubject.action.timestamp);
    expect(signed.proof).toMatchObject({ type: "Ed25519Signature2020", verificationMethod: "did:x#k1", proofPurpose: "assertionMethod" });
  });

  test("principal: login, else platform:uid, else unknown; never from the frame", () => {
    const cred = TEST_PEER.credential;
    expect(event({}, { credential: cred, login: "alice" }).credentialSubject.principal).toEqual({ id: "did:user:alice" });
    expect(event({}, { credential: cred }).credentialSubject.principal.id).toBe(`did:user:linux:${cred.uid}`);
    expect(event({}, { credential: cred, login: "" }).credentialSubject.principal.id).toBe(`did:user:linux:${cred.uid}`);
    const mac = { credential: { platform: "darwin" as const, pid: 9, uid: 501, gid: 20 } };
    expect(event({}, mac).credentialSubject.principal.id).toBe("did:user:darwin:501");
    expect(event({}, null).credentialSubject.principal.id).toBe("did:user:unknown");
    const spoof = { ...frame(1), principal: "did:user:root", principal_id: "did:user:root" } as unknown as Frame;
    expect(buildEventReceipt(spoof, null, POS, NOW, CONFIG).credentialSubject.principal.id).toBe("did:user:unknown");
  });

  test("peer_credential copied from the kernel peer; uid/gid 0 kept; exe_path omitted when unknown; absent without a peer", () => {
    expect(event().credentialSubject.action.peer_credential).toEqual(TEST_PEER.credential);
    const root = event({}, { credential: { platform: "linux", pid: 1, uid: 0, gid: 0 }, login: "root" });
    expect(root.credentialSubject.action.peer_credential).toEqual({ platform: "linux", pid: 1, uid: 0, gid: 0 });
    expect(root.credentialSubject.action.peer_credential!.uid).toBe(0);
    expect(root.credentialSubject.action.peer_credential!.gid).toBe(0);
    expect("exe_path" in root.credentialSubject.action.peer_credential!).toBe(false);
    expect(root.credentialSubject.principal.id).toBe("did:user:root");
    expect(event({}, { credential: { platform: "linux", pid: 1, uid: 0, gid: 0 } }).credentialSubject.principal.id).toBe("did:user:linux:0");
    expect("peer_credential" in event({}, null).credentialSubject.action).toBe(false);
  });

  test("action.type: action_type verbatim, else channel.tool or channel.server.tool", () => {
    expect(event({ action_type: "custom.thing" }).credentialSubject.action.type).toBe("custom.thing");
    expect(event({ channel: "mcp", tool: { name: "search" } }).credentialSubject.action.type).toBe("mcp.search");
    expect(event({ channel: "mcp", tool: { name: "search", server: "github" } }).credentialSubject.action.type).toBe("mcp.github.search");
    expect(event({ channel: "mcp", tool: { name: "search", server: "github" } }).credentialSubject.action.tool_name).toBe("search");
  });

  test("risk_level from action-types.json; unknown types are medium", () => {
    const taxonomy = JSON.parse(readFileSync(join(VECTORS, "action-types.json"), "utf8")) as {
      domains: Record<string, { actions: Array<{ type: string; risk_level: string }> }>;
    };
    const all = Object.values(taxonomy.domains).flatMap((d) => d.actions);
    expect(all.length).toBeGreaterThan(0);
    const levels = new Set<string>();
    for (const a of all) {
      expect({ type: a.type, risk: event({ action_type: a.type }).credentialSubject.action.risk_level }).toEqual({ type: a.type, risk: a.risk_level as never });
      levels.add(a.risk_level);
    }
    expect(levels.size).toBeGreaterThan(1);
    expect(event({ action_type: "no.such.type.anywhere" }).credentialSubject.action.risk_level).toBe("medium");
    expect(event({ channel: "sdk", tool: { name: "unlisted_tool" } }).credentialSubject.action.risk_level).toBe("medium");
  });

  test("outcome.status rules", () => {
    const status = (extra: Partial<Frame>) => event(extra).credentialSubject.outcome.status;
    expect(status({ decision: "allowed" })).toBe("success");
    expect(status({ decision: "allowed", error: "boom" })).toBe("failure");
    expect(status({ decision: "allowed", error: "" })).toBe("success");
    expect(status({ decision: "allowed", channel: "mcp", output: { isError: true, content: [] } })).toBe("failure");
    expect(status({ decision: "allowed", channel: "mcp", output: { isError: false } })).toBe("success");
    expect(status({ decision: "allowed", channel: "mcp", output: { isError: "true" } })).toBe("success");
    expect(status({ decision: "allowed", channel: "mcp", output: [{ isError: true }] })).toBe("success");
    expect(status({ decision: "allowed", channel: "sdk", output: { isError: true } })).toBe("success");
    expect(status({ decision: "denied" })).toBe("failure");
    expect(status({ decision: "denied", output: { ok: true } })).toBe("failure");
    expect(status({ decision: "pending" })).toBe("pending");
    expect(status({ decision: "pending", error: "later" })).toBe("pending");
  });

  test("payload hashes of the raw input/output; null or absent means none; payloads never stored", () => {
    const input = { path: "/etc/hosts", opts: { b: 2, a: [1, "ü"] } };
    const output = ["line1", { n: 2 }];
    const r = event({ input, output });
    expect(r.credentialSubject.action.parameters_hash).toBe(sha256('{"opts":{"a":[1,"ü"],"b":2},"path":"/etc/hosts"}'));
    expect(r.credentialSubject.outcome.response_hash).toBe(sha256('["line1",{"n":2}]'));
    expect(event({ input: "text", output: 0 }).credentialSubject.action.parameters_hash).toBe(sha256('"text"'));
    expect(event({ input: "text", output: 0 }).credentialSubject.outcome.response_hash).toBe(sha256("0"));
    expect(event({ input: false }).credentialSubject.action.parameters_hash).toBe(sha256("false"));
    const none = event({ input: null, output: undefined });
    expect("parameters_hash" in none.credentialSubject.action).toBe(false);
    expect("response_hash" in none.credentialSubject.outcome).toBe(false);
    expect(JSON.stringify(r)).not.toContain("/etc/hosts");
    expect(JSON.stringify(r)).not.toContain("line1");
  });

  const SECRETS: Array<[string, string, (s: string) => string]> = [
    ["GitHub classic token", "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6", (s) => `git push failed: remote rejected token ${s}`],
    ["GitHub fine-grained token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV", (s) => `auth with ${s} denied`],
    ["OpenAI-style key", "sk-proj-Abc123Def456Ghi789Jkl012", (s) => `401 Incorrect API key provided: ${s}.`],
    ["AWS access key id", "AKIAIOSFODNN7EXAMPLE", (s) => `InvalidClientTokenId: ${s} is not valid`],
    ["Bearer token", "a1b2c3d4e5f6g7h8i9j0.klmnop", (s) => `request had header Authorization: Bearer ${s}`],
    ["JWT", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", (s) => `jwt rejected: ${s}`],
    ["Slack bot token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", (s) => `slack: invalid_auth for ${s}`],
    ["PEM private key", "MC4CAQAwBQYDK2VwBCIEIJqomA2cjqhLUYPhkMJyg4+A7hU8GiZtVzkN0Yz6jJPF", (s) => `bad key:\n-----BEGIN PRIVATE KEY-----\n${s}\n-----END PRIVATE KEY-----\nend`],
    ["token= URL parameter", "s3cr3tT0kenValue42", (s) => `GET https://api.example.com/v1/items?page=2&token=${s}&x=1 failed: 500`],
    ["JSON password", "hunter2-Correct-Horse", (s) => `request body {"user":"bob","password": "${s}"} was rejected`],
  ];

  for (const [name, secret, wrap] of SECRETS) {
    test(`outcome.error is redacted: ${name}`, () => {
      const error = wrap(secret);
      const r = event({ decision: "allowed", error });
      const out = r.credentialSubject.outcome.error!;
      expect(typeof out).toBe("string");
      expect(out).not.toContain(secret);
      expect(out).toContain(REDACTED);
      expect(JSON.stringify(r)).not.toContain(secret);
      expect(r.credentialSubject.outcome.status).toBe("failure");
    });
  }

  test("an error without secrets is kept verbatim", () => {
    const error = "ENOENT: no such file or directory, open '/tmp/x.txt'";
    expect(event({ error }).credentialSubject.outcome.error).toBe(error);
    expect("error" in event({ error: "" }).credentialSubject.outcome).toBe(false);
    expect("error" in event().credentialSubject.outcome).toBe(false);
  });

  test("optional fields are omitted, never null", () => {
    const minimal: Frame = { v: "1", ts_emit: NOW, session_id: "s", channel: "cli", tool: { name: "t" }, decision: "allowed" };
    const nullish = { ...minimal, input: null, output: null, usage: null } as Frame;
    for (const [f, peer] of [[minimal, null], [minimal, TEST_PEER], [nullish, null], [frame(1), TEST_PEER]] as Array<[Frame, AttestedPeer | null]>) {
      const r = buildEventReceipt(f, peer, POS, NOW, CONFIG);
      expect(nullPaths(r)).toEqual([]);
      const first = buildEventReceipt(f, peer, { chainId: "c", sequence: 1, previousHash: null }, NOW, CONFIG);
      expect(nullPaths(first)).toEqual([".credentialSubject.chain.previous_receipt_hash"]);
    }
    const r = buildEventReceipt(minimal, null, POS, NOW, CONFIG);
    expect(Object.keys(r.issuer).sort()).toEqual(["id", "session_id", "type"]);
    expect(Object.keys(r.credentialSubject).sort()).toEqual(["action", "chain", "outcome", "principal"]);
    expect(Object.keys(r.credentialSubject.action).sort()).toEqual(["id", "risk_level", "timestamp", "tool_name", "type"]);
    expect(Object.keys(r.credentialSubject.outcome)).toEqual(["status"]);
  });

  test("every optional frame field lands where §4 says", () => {
    const r = event({
      issuer_name: "Claude Code", issuer_model: "claude-x", operator_id: "op-1", operator_name: "Acme",
      idempotency_key: "idem-1", correlation_id: "corr-1", target_system: "github", target_resource: "repo/x",
    });
    expect(r.issuer).toEqual({
      id: CONFIG.issuerId, type: "AgentReceiptsDaemon", name: "Claude Code", model: "claude-x",
      operator: { id: "op-1", name: "Acme" }, session_id: "sess-test",
    });
    expect(r.credentialSubject.action.idempotency_key).toBe("idem-1");
    expect(r.credentialSubject.correlation_id).toBe("corr-1");
    expect(r.credentialSubject.action.target).toEqual({ system: "github", resource: "repo/x" });
    expect(event({ operator_id: "op-2" }).issuer.operator).toEqual({ id: "op-2" });
    expect("operator" in event({ operator_name: "orphan" }).issuer).toBe(false);
    expect("target" in event({ target_system: "github" }).credentialSubject.action).toBe(false);
    const delegation = { parent_chain_id: "root", parent_receipt_id: "urn:receipt:x", delegator: { id: CONFIG.issuerId } };
    expect(buildEventReceipt(frame(1), TEST_PEER, POS, NOW, CONFIG, delegation).credentialSubject.delegation).toEqual(delegation);
    expect("delegation" in event().credentialSubject).toBe(false);
  });

  test("issuer.runtime only when agent_id, model, capture_method or usage is present", () => {
    expect(event({ agent_id: "a1" }).issuer.runtime).toEqual({ agent_id: "a1" });
    expect(event({ model: "m" }).issuer.runtime).toEqual({ model: "m" });
    expect(event({ capture_method: "hook" }).issuer.runtime).toEqual({ capture_method: "hook" });
    expect(event({ usage: { input_tokens: 3, nested: { x: [1] } } }).issuer.runtime).toEqual({ usage: { input_tokens: 3, nested: { x: [1] } } });
    expect(event({ usage: 0 }).issuer.runtime).toEqual({ usage: 0 });
    expect(event({ agent_id: "a1", agent_type: "general-purpose", model: "m", capture_method: "hook", usage: [1] }).issuer.runtime).toEqual({
      agent_id: "a1", agent_type: "general-purpose", model: "m", usage: [1], capture_method: "hook",
    });
    for (const extra of [{}, { agent_type: "general-purpose" }, { issuer_name: "n", issuer_model: "m" }, { usage: null }] as Array<Partial<Frame>>) {
      const r = event(extra);
      expect({ extra, runtime: "runtime" in r.issuer }).toEqual({ extra, runtime: false });
    }
  });

  test("live receipts never carry emitter_metadata", () => {
    expect("emitter_metadata" in event({ drop_count: 5 }).credentialSubject.action).toBe(false);
  });
});

describe("drop receipt and terminator (docs/protocol.md §6)", () => {
  test("drop receipt shape", () => {
    const r = buildDropReceipt("sess-9", 4, TEST_PEER, POS, NOW, CONFIG);
    expect(r.issuer).toEqual({ id: CONFIG.issuerId, type: "AgentReceiptsDaemon", session_id: "sess-9" });
    expect(r.issuanceDate).toBe(NOW);
    const s = r.credentialSubject;
    expect(s.principal.id).toBe(`did:user:${TEST_PEER.login}`);
    expect(s.action).toEqual({
      id: s.action.id, type: EVENTS_DROPPED_TYPE, tool_name: "events_dropped", risk_level: "low", timestamp: NOW,
      peer_credential: TEST_PEER.credential, emitter_metadata: { drop_count: 4 },
    });
    expect(EVENTS_DROPPED_TYPE).toBe("agent_receipts.events_dropped");
    expect(s.action.id).toMatch(new RegExp(`^act_${UUID_V4}$`));
    expect(s.outcome).toEqual({ status: "success" });
    expect(s.chain).toEqual({ sequence: POS.sequence, previous_receipt_hash: POS.previousHash, chain_id: POS.chainId });
    expect(Object.keys(s).sort()).toEqual(["action", "chain", "outcome", "principal"]);
    expect(nullPaths(r)).toEqual([]);
    const noPeer = buildDropReceipt("sess-9", 1, null, POS, NOW, CONFIG);
    expect(noPeer.credentialSubject.principal.id).toBe("did:user:unknown");
    expect("peer_credential" in noPeer.credentialSubject.action).toBe(false);
  });

  test("terminator shape", () => {
    const r = buildTerminator(POS, NOW, CONFIG);
    expect(r.issuer).toEqual({ id: CONFIG.issuerId, type: "AgentReceiptsDaemon" });
    expect(r.issuanceDate).toBe(NOW);
    const s = r.credentialSubject;
    expect(s.principal).toEqual({ id: "did:user:unknown" });
    expect(s.action).toEqual({ id: s.action.id, type: CHAIN_INTERRUPTED_TYPE, tool_name: "chain_interrupted", risk_level: "low", timestamp: NOW });
    expect(CHAIN_INTERRUPTED_TYPE).toBe("agent_receipts.chain_interrupted");
    expect(s.chain).toEqual({ sequence: POS.sequence, previous_receipt_hash: POS.previousHash, chain_id: POS.chainId, terminal: true, status: "interrupted" });
    expect(nullPaths(r)).toEqual([]);
    expect(r.id).toMatch(new RegExp(`^urn:receipt:${UUID_V4}$`));
  });
});
