// The cross-SDK test vectors (tests/fixtures/vectors/): every canonicalization
// case, every receipt hash vector, and every signed receipt in every vector file.
// Files are walked generically so that a receipt or an expected hash the test
// does not know how to check makes it fail instead of being skipped.
import { test, expect, describe } from "bun:test";
import { createHash, createPrivateKey, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { canonicalJson, canonicalReceipt, hashCanonical, payloadHash, receiptHash } from "../../src/receipt/canonical.ts";
import { generateKeyPair, parsePrivateKey, parsePublicKey } from "../../src/receipt/keys.ts";
import { keySourceOf } from "../../src/receipt/key-source.ts";
import { MalformedProofError, makeProof, verifyProof } from "../../src/receipt/proof.ts";
import { redactSecrets } from "../../src/daemon/pipeline/redact.ts";
import { checkReceipt, type CheckedReceipt } from "../../src/verify/check-receipt.ts";
import { ChainRules } from "../../src/verify/chain-rules.ts";
import { VerifyPool } from "../../src/verify/pool.ts";
import { verifyChain } from "../../src/verify/verify-chain.ts";
import { VECTORS } from "../helpers/fixtures.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Path = Array<string | number>;

function load(name: string): JsonObject {
  return JSON.parse(readFileSync(join(VECTORS, name), "utf8")) as JsonObject;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function get(root: Json, path: Path): Json {
  let cur: Json = root;
  for (const p of path) cur = (cur as Record<string | number, Json>)[p]!;
  return cur;
}

function set(root: Json, path: Path, value: Json): void {
  const parent = get(root, path.slice(0, -1)) as Record<string | number, Json>;
  parent[path[path.length - 1]!] = value;
}

function remove(root: Json, path: Path): void {
  const parent = get(root, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete (parent as JsonObject)[last as string];
}

function show(path: Path): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("") || "(root)";
}

/** Every leaf (scalar, empty object or empty array) with its path. */
function leaves(v: Json, path: Path = []): Array<{ path: Path; value: Json }> {
  if (Array.isArray(v)) return v.length === 0 ? [{ path, value: v }] : v.flatMap((x, i) => leaves(x, [...path, i]));
  if (isObject(v)) {
    const keys = Object.keys(v);
    return keys.length === 0 ? [{ path, value: v }] : keys.flatMap((k) => leaves(v[k]!, [...path, k]));
  }
  return [{ path, value: v }];
}

/** Objects carrying a `proof` object: the signed receipts of a vector file. */
function signedReceipts(v: Json, path: Path = []): Array<{ path: Path; receipt: JsonObject }> {
  const found: Array<{ path: Path; receipt: JsonObject }> = [];
  if (Array.isArray(v)) v.forEach((x, i) => found.push(...signedReceipts(x, [...path, i])));
  else if (isObject(v)) {
    if (isObject(v.proof)) found.push({ path, receipt: v });
    for (const [k, x] of Object.entries(v)) if (k !== "proof") found.push(...signedReceipts(x, [...path, k]));
  }
  return found;
}

const SHA256 = /^sha256:[0-9a-f]{64}$/;

/** Every `sha256:<hex>` string under a key that says it is expected. */
function expectedHashFields(v: Json, path: Path = []): Array<{ path: Path; value: string }> {
  const found: Array<{ path: Path; value: string }> = [];
  if (Array.isArray(v)) v.forEach((x, i) => found.push(...expectedHashFields(x, [...path, i])));
  else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === "string" && /expected/i.test(k) && SHA256.test(x)) found.push({ path: [...path, k], value: x });
      else found.push(...expectedHashFields(x, [...path, k]));
    }
  }
  return found;
}

function independentSha256(text: string): string {
  return `sha256:${createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex")}`;
}

const SIGNED_FILES = ["go_vectors.json", "py_vectors.json", "v020_vectors.json", "v030_vectors.json", "v050_vectors.json"];

/**
 * The expected hash a vector file pins for the signed receipt at `path`, and the
 * path of the field holding it. Sources, in this order:
 * - a sibling `expected...Hash` of the receipt (`{receipt, expectedReceiptHash}`);
 * - `hashing.receiptExpected`, which pins `signing.signed` (= `canonicalization.receiptInput`);
 * - inside an array of receipts, the next receipt's `previous_receipt_hash`.
 */
function expectedHashOf(file: JsonObject, path: Path): { hash: string; from: Path } | null {
  const parentPath = path.slice(0, -1);
  const parent = get(file, parentPath);
  if (isObject(parent)) {
    for (const [k, x] of Object.entries(parent)) {
      if (/^expected.*hash$/i.test(k) && typeof x === "string" && SHA256.test(x)) return { hash: x, from: [...parentPath, k] };
    }
  }
  if (show(path) === ".signing.signed" && isObject(file.hashing) && typeof file.hashing.receiptExpected === "string") {
    return { hash: file.hashing.receiptExpected, from: ["hashing", "receiptExpected"] };
  }
  const last = path[path.length - 1];
  if (Array.isArray(parent) && typeof last === "number" && last + 1 < parent.length) {
    const next = parent[last + 1];
    const prev = isObject(next) && isObject(next.credentialSubject) && isObject(next.credentialSubject.chain)
      ? next.credentialSubject.chain.previous_receipt_hash : undefined;
    if (typeof prev === "string") return { hash: prev, from: [...parentPath, last + 1, "credentialSubject", "chain", "previous_receipt_hash"] };
  }
  return null;
}

/** Fields of `proof` outside the signature (docs/protocol.md §5). */
const UNSIGNED_PROOF_FIELDS = new Set([".proof.created", ".proof.verificationMethod", ".proof.proofPurpose"]);

/** A different value of the same leaf. */
function changed(value: Json, path: Path): Json {
  if (typeof value === "string") {
    if (show(path) === ".proof.proofValue") {
      // Same length, another base64url character in the middle: decodes to 64 bytes, a different signature.
      const i = 20;
      return value.slice(0, i) + (value[i] === "A" ? "B" : "A") + value.slice(i + 1);
    }
    return `${value}x`;
  }
  if (typeof value === "number") return value + 1;
  if (typeof value === "boolean") return !value;
  if (value === null) return "sha256:0000000000000000000000000000000000000000000000000000000000000000";
  if (Array.isArray(value)) return ["x"];
  return { x: "x" };
}

function check(receipt: Json, pem: string): CheckedReceipt {
  return checkReceipt(JSON.stringify(receipt), parsePublicKey(pem));
}

/** verifyProof's verdict, with a malformed proof counted as a failure. */
function proofVerdict(receipt: JsonObject, pem: string): "valid" | "bad_signature" | "malformed_proof" {
  try {
    return verifyProof(parsePublicKey(pem), canonicalReceipt(receipt), receipt.proof) ? "valid" : "bad_signature";
  } catch (err) {
    if (err instanceof MalformedProofError) return "malformed_proof";
    throw err;
  }
}

describe("canonicalization_vectors.json", () => {
  const file = load("canonicalization_vectors.json");
  const cases = file.canonicalization_vectors as JsonObject[];
  const hashCases = file.receipt_hash_vectors as JsonObject[];

  test("the file has cases of both kinds", () => {
    expect(cases.length).toBeGreaterThan(0);
    expect(hashCases.length).toBeGreaterThan(0);
  });

  for (const c of cases) {
    test(`canonical: ${String(c.name)}`, () => {
      expect(typeof c.canonical).toBe("string");
      let input: unknown = c.input;
      if (c.name === "number_negative_zero") {
        // The notes allow hard-coding -0 where a parser drops the sign; check the parsed value too.
        expect(canonicalJson(-0)).toBe(c.canonical as string);
        if (!Object.is(input, -0)) input = -0;
      }
      const text = canonicalJson(input);
      expect(text).toBe(c.canonical as string);
      // Canonical output is stable: parsing it and canonicalizing again gives the same text.
      expect(canonicalJson(JSON.parse(text))).toBe(text);
      if (c.expectedHash !== undefined) {
        expect(payloadHash(input)).toBe(c.expectedHash as string);
        expect(independentSha256(c.canonical as string)).toBe(c.expectedHash as string);
      }
    });
  }

  /** Drops every null that is not the required-nullable chain.previous_receipt_hash (Rule 2 sweep). */
  function stripOptionalNulls(v: Json, path: Path = []): Json {
    if (Array.isArray(v)) return v.map((x, i) => stripOptionalNulls(x, [...path, i]));
    if (!isObject(v)) return v;
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      const p = [...path, k];
      if (x === null && show(p) !== ".credentialSubject.chain.previous_receipt_hash") continue;
      out[k] = stripOptionalNulls(x, p);
    }
    return out;
  }

  const byName = new Map(hashCases.map((c) => [c.name as string, c]));

  function resolveExpected(c: JsonObject): string {
    const e = c.expectedHash as string;
    const same = /^SAME_AS_(.+)$/.exec(e);
    if (same) {
      const other = byName.get(same[1]!);
      expect(other).toBeDefined();
      return resolveExpected(other!);
    }
    expect(e).toMatch(SHA256);
    return e;
  }

  function resolveRef(ref: string): Json {
    const [fileRef, pointer] = ref.split("#");
    let v: Json = load(basename(fileRef!));
    for (const part of (pointer ?? "").split("/").filter((p) => p !== "")) v = (v as Record<string, Json>)[part.replace(/~1/g, "/").replace(/~0/g, "~")]!;
    return v;
  }

  for (const c of hashCases) {
    test(`receipt hash: ${String(c.name)}`, () => {
      let handled = false;
      if (c.receipt !== undefined) {
        const raw = c.receipt as JsonObject;
        const normalized = stripOptionalNulls(raw) as JsonObject;
        const expected = resolveExpected(c);
        if (c.preNormalizationInput === true) {
          // This project never writes optional nulls; the vector asks for the sweep first.
          expect(JSON.stringify(normalized)).not.toBe(JSON.stringify(raw));
        } else {
          // A conformant receipt needs no sweep: the raw hash is already the expected one.
          expect(receiptHash(raw)).toBe(expected);
        }
        expect(receiptHash(normalized)).toBe(expected);
        expect(independentSha256(canonicalReceipt(normalized))).toBe(expected);
        if (c.mustContainSubstring !== undefined) expect(canonicalReceipt(normalized)).toContain(c.mustContainSubstring as string);
        handled = true;
      }
      if (c.receiptsFrom !== undefined) {
        // Signature preservation: the referenced signed receipts still verify and re-canonicalize identically.
        const receipts = resolveRef(c.receiptsFrom as string) as JsonObject[];
        const pem = (load(basename((c.receiptsFrom as string).split("#")[0]!)).keys as JsonObject).publicKey as string;
        expect(receipts.length).toBeGreaterThan(0);
        for (const r of receipts) {
          expect(canonicalReceipt(stripOptionalNulls(r) as JsonObject)).toBe(canonicalReceipt(r));
          expect(check(r, pem).problem).toBeUndefined();
        }
        handled = true;
      }
      expect(handled ? "handled" : `unknown vector shape: ${Object.keys(c).join(", ")}`).toBe("handled");
    });
  }
});

for (const name of SIGNED_FILES) {
  describe(name, () => {
    const file = load(name);
    const keys = file.keys as JsonObject;
    const pem = keys.publicKey as string;
    const found = signedReceipts(file);

    test("holds signed receipts", () => {
      expect(found.length).toBeGreaterThan(0);
    });

    test("every expected hash in the file is reproduced", () => {
      const fields = expectedHashFields(file);
      const consumed = new Set<string>();
      for (const { path } of found) {
        const e = expectedHashOf(file, path);
        if (e !== null) consumed.add(show(e.from));
      }
      for (const f of fields) {
        const at = show(f.path);
        if (consumed.has(at)) continue;
        const parent = get(file, f.path.slice(0, -1)) as JsonObject;
        if (at === ".hashing.receiptExpected") {
          expect(receiptHash(get(file, ["canonicalization", "receiptInput"]) as JsonObject)).toBe(f.value);
        } else if (at === ".hashing.simpleExpected") {
          // A plain string hashed as its UTF-8 bytes (not as a JSON value).
          expect(hashCanonical(parent.simpleInput as string)).toBe(f.value);
          expect(independentSha256(parent.simpleInput as string)).toBe(f.value);
        } else if (at === ".responseHash.expectedHash") {
          // The hash is of the redacted response; the raw one hashes differently.
          expect(payloadHash(parent.redactedResponse)).toBe(f.value);
          expect(payloadHash(parent.rawResponse)).not.toBe(f.value);
          expect(JSON.parse(redactSecrets(JSON.stringify(parent.rawResponse)))).toEqual(parent.redactedResponse);
        } else {
          throw new Error(`no check for the expected hash at ${at}`);
        }
        consumed.add(at);
      }
      expect(fields.filter((f) => !consumed.has(show(f.path))).map((f) => show(f.path))).toEqual([]);
    });

    test("canonicalization and plain hashing cases", () => {
      const canon = file.canonicalization;
      const hashing = file.hashing;
      if (!isObject(canon) && !isObject(hashing)) return; // v0x0 files have none
      expect(isObject(canon) && isObject(hashing)).toBe(true);
      const c = canon as JsonObject;
      const h = hashing as JsonObject;
      expect(canonicalJson(c.simpleInput)).toBe(c.simpleExpected as string);
      expect(canonicalJson(c.receiptInput)).toBe(c.receiptExpected as string);
      expect(receiptHash(c.receiptInput as JsonObject)).toBe(h.receiptExpected as string);
      // simpleInput is hashed as raw UTF-8 text, not as a JSON value.
      expect(independentSha256(h.simpleInput as string)).toBe(h.simpleExpected as string);
    });

    for (const { path, receipt } of found) {
      const label = show(path);

      test(`${label} verifies and reproduces its hash`, () => {
        const checked = check(receipt, pem);
        expect(checked.problem).toBeUndefined();
        expect(proofVerdict(receipt, pem)).toBe("valid");
        const expected = expectedHashOf(file, path);
        const parent = get(file, path.slice(0, -1));
        const isChainTail = Array.isArray(parent) && path[path.length - 1] === parent.length - 1;
        if (expected === null) {
          // Only the last receipt of a chain has no hash pinned anywhere; it is checked as a chain.
          expect(isChainTail).toBe(true);
        } else {
          expect(checked.hash).toBe(expected.hash);
          expect(receiptHash(receipt)).toBe(expected.hash);
        }
        // Key order of the stored JSON does not matter: re-serializing in another order verifies too.
        const reordered = Object.fromEntries(Object.entries(receipt).reverse()) as JsonObject;
        expect(check(reordered, pem).problem).toBeUndefined();
      });

      test(`${label}: any single changed field fails verification`, () => {
        let tried = 0;
        for (const { path: leaf, value } of leaves(receipt)) {
          const at = show(leaf);
          const tampered = clone(receipt);
          set(tampered, leaf, changed(value, leaf));
          const checked = check(tampered, pem);
          if (UNSIGNED_PROOF_FIELDS.has(at)) {
            expect({ at, problem: checked.problem }).toEqual({ at, problem: undefined });
            continue;
          }
          tried++;
          if (at.startsWith(".proof.")) {
            expect({ at, failed: checked.problem === "malformed_proof" || checked.problem === "bad_signature" }).toEqual({ at, failed: true });
            expect({ at, verdict: proofVerdict(tampered, pem) === "valid" }).toEqual({ at, verdict: false });
          } else {
            expect({ at, problem: checked.problem }).toEqual({ at, problem: "bad_signature" });
            expect({ at, verdict: proofVerdict(tampered, pem) }).toEqual({ at, verdict: "bad_signature" });
          }
        }
        expect(tried).toBeGreaterThan(10);
        // proof.type is checked by name, not just signed.
        const wrongType = clone(receipt);
        (wrongType.proof as JsonObject).type = "Ed25519Signature2018";
        expect(check(wrongType, pem).problem).toBe("malformed_proof");
        expect(proofVerdict(wrongType, pem)).toBe("malformed_proof");
      });

      test(`${label}: a removed or an added field fails verification`, () => {
        for (const { path: leaf } of leaves(receipt)) {
          const at = show(leaf);
          if (UNSIGNED_PROOF_FIELDS.has(at)) continue;
          const tampered = clone(receipt);
          remove(tampered, leaf);
          const problem = check(tampered, pem).problem;
          expect({ at, failed: problem !== undefined }).toEqual({ at, failed: true });
        }
        for (const objectPath of [[], ["credentialSubject"], ["issuer"], ["credentialSubject", "action"]] as Path[]) {
          const tampered = clone(receipt);
          (get(tampered, objectPath) as JsonObject).extra_field = "x";
          expect({ at: show(objectPath), problem: check(tampered, pem).problem }).toEqual({ at: show(objectPath), problem: "bad_signature" });
        }
      });

      test(`${label}: does not verify under another key`, () => {
        expect(check(receipt, generateKeyPair().publicKeyPem).problem).toBe("bad_signature");
      });
    }

    const signing = file.signing;
    if (isObject(signing) && isObject(signing.unsigned)) {
      test("signing the unsigned receipt with the vector key reproduces the proofValue", () => {
        const unsigned = signing.unsigned as JsonObject;
        const signed = signing.signed as JsonObject;
        const expectedValue = (signed.proof as JsonObject).proofValue as string;
        expect(typeof expectedValue).toBe("string");
        const bytes = Buffer.from(canonicalJson(unsigned), "utf8");
        // node:crypto directly, independent of the project's proof code.
        const sig = sign(null, bytes, createPrivateKey(keys.privateKey as string));
        expect(`u${sig.toString("base64url")}`).toBe(expectedValue);
        // And through the project's own signer.
        const proof = makeProof(keySourceOf(parsePrivateKey(keys.privateKey as string)), canonicalJson(unsigned), {
          created: (signed.proof as JsonObject).created as string,
          verificationMethod: signing.verificationMethod as string,
        });
        expect(proof.proofValue).toBe(expectedValue);
        expect({ ...unsigned, proof } as unknown).toEqual(signed);
      });
    }
  });
}

describe("v020 terminalChain as a chain", () => {
  const file = load("v020_vectors.json");
  const pem = (file.keys as JsonObject).publicKey as string;
  const chain = file.terminalChain as JsonObject;
  const receipts = chain.receipts as JsonObject[];
  const lastChain = (receipts[receipts.length - 1]!.credentialSubject as JsonObject).chain as JsonObject;
  // A terminal receipt without chain.status proves the tail; it counts as complete.
  const expectedStatus = lastChain.terminal === true ? (lastChain.status as string | undefined) ?? "complete" : "unknown";

  test("ChainRules accepts it", () => {
    expect(receipts.length).toBeGreaterThan(1);
    const rules = new ChainRules();
    for (const r of receipts) expect(rules.accept(check(r, pem))).toBe(true);
    expect(rules.broken).toBeNull();
    expect(rules.count).toBe(receipts.length);
    expect(rules.status).toBe(expectedStatus as "complete");
    expect(chain.expectedValid).toBe(true);
  });

  test("verifyChain through the worker pool accepts it", async () => {
    const pool = new VerifyPool(pem, 2);
    try {
      const result = await verifyChain("chain", receipts.map((r) => JSON.stringify(r)), pool, { batchSize: 1 });
      expect(result.valid).toBe(true);
      expect(result.count).toBe(receipts.length);
      expect(result.status).toBe(expectedStatus as "complete");
      expect(result.break).toBeUndefined();
    } finally {
      pool.close();
    }
  });

  test("out of order, with a receipt missing or after the terminal it breaks", async () => {
    const pool = new VerifyPool(pem, 2);
    try {
      const json = receipts.map((r) => JSON.stringify(r));
      const swapped = await verifyChain("chain", [json[1]!, json[0]!, ...json.slice(2)], pool);
      expect(swapped.valid).toBe(false);
      expect(swapped.break!.index).toBe(0);
      const gap = await verifyChain("chain", [json[0]!, ...json.slice(2)], pool);
      expect(gap.valid).toBe(false);
      expect(gap.break!.index).toBe(1);
      expect(gap.break!.reasons).toContain("broken_hash_link");
      expect(gap.break!.reasons).toContain("sequence_gap");
      const afterTerminal = await verifyChain("chain", [...json, json[json.length - 1]!], pool);
      expect(afterTerminal.valid).toBe(false);
      expect(afterTerminal.break!.index).toBe(json.length);
      expect(afterTerminal.break!.reasons).toContain("receipt_after_terminal");
    } finally {
      pool.close();
    }
  });
});
