// Issue 13, item 14: `verify` tells a wrong key from tampering, and a file
// that holds no receipts from a broken chain. Both are wrong arguments: exit 2
// with one line naming the problem and the fix. Through the compiled binary.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash, createPublicKey } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair } from "../../src/receipt/keys.ts";
import { makeChainDb, writeKeyFiles } from "../helpers/fixtures.ts";
import { chainFixture, cli, exportLines, removeTempDirs, scratchDir, sql, STACK_LINE, verifyDb, verifyJson } from "../helpers/verify-run.ts";

afterAll(removeTempDirs);

const DEFAULT_METHOD = "did:agent-receipts-daemon:local#k1";

/** The raw 32-byte Ed25519 key of an SPKI PEM (JWK "x"), independent of the project's code. */
function rawKey(publicKeyPem: string): Buffer {
  return Buffer.from(createPublicKey(publicKeyPem).export({ format: "jwk" }).x!, "base64url");
}

function fingerprintOf(publicKeyPem: string): string {
  return `sha256:${createHash("sha256").update(rawKey(publicKeyPem)).digest("hex")}`;
}

/** did:key of an Ed25519 key: multibase base58btc ("z") over the multicodec 0xed 0x01 and the raw key. */
function didKey(publicKeyPem: string): string {
  const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  const bytes = Buffer.concat([Buffer.from([0xed, 0x01]), rawKey(publicKeyPem)]);
  let n = BigInt(`0x${bytes.toString("hex")}`);
  let text = "";
  while (n > 0n) {
    text = ALPHABET[Number(n % 58n)] + text;
    n /= 58n;
  }
  const id = `z${text}`;
  return `did:key:${id}#${id}`;
}

function otherKey(dir: string): { path: string; fingerprint: string } {
  const pem = generateKeyPair().publicKeyPem;
  const path = join(dir, "other.pub");
  writeFileSync(path, pem);
  return { path, fingerprint: fingerprintOf(pem) };
}

describe("a key that verifies no receipt of a chain: the key does not match, exit 2", () => {
  test("receipts naming the default verification method: the given key is named, and that the receipts name none", () => {
    const f = chainFixture(4, { terminate: true });
    const other = otherKey(f.dir);
    const r = verifyDb(f.db, other.path);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/WRONG KEY\s+chain test-chain\s+5 receipts: none verifies under this key\n/);
    expect(r.stdout).toContain(`the receipts name verification method ${DEFAULT_METHOD}\n`);
    expect(r.stdout).toContain(`1 of 1 chain(s) not signed by this key (key ${other.fingerprint})`);
    expect(r.stdout).not.toContain("BROKEN");
    expect(r.stdout).not.toContain("bad signature");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`the public key ${other.path} (${other.fingerprint}) does not match the receipts`);
    expect(lines[0]).toContain(`their verification method ${DEFAULT_METHOD} does not name the key`);
    expect(lines[0]).toContain("Pass --public-key");
    expect(r.stderr).not.toMatch(STACK_LINE);

    const j = verifyJson(f.db, other.path);
    expect(j.code).toBe(2);
    expect(j.valid).toBe(false);
    expect(j.key_mismatch).toBe(true);
    expect(j.chains).toEqual([
      { chain_id: "test-chain", valid: false, count: 5, status: "unknown", retries: 0, key_mismatch: { verification_method: DEFAULT_METHOD, fingerprint: null } },
    ]);
  });

  test.each([
    ["a did:key", (pem: string) => didKey(pem)],
    ["an id holding the fingerprint", (pem: string) => `did:agent-receipts-daemon:local#${fingerprintOf(pem)}`],
  ])("receipts whose verification method is %s: both fingerprints are named", (_name, method) => {
    const dir = scratchDir("ar-e2e-key-");
    const keys = writeKeyFiles(dir);
    const db = join(dir, "receipts.db");
    makeChainDb(db, keys.privateKeyPem, 3, { chainId: "named", verificationMethod: method(keys.publicKeyPem) });
    // The right key still verifies: the verification method is informational.
    expect(verifyDb(db, keys.publicKey).code).toBe(0);
    const other = otherKey(dir);
    const signer = fingerprintOf(keys.publicKeyPem);
    const r = verifyDb(db, other.path);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`(key ${signer})`);
    expect(r.stderr).toContain(`(${other.fingerprint}) does not match the receipts`);
    expect(r.stderr).toContain(`they were signed by key ${signer} (verification method ${method(keys.publicKeyPem)})`);
    const j = verifyJson(db, other.path);
    expect(j.chains[0]!.key_mismatch).toEqual({ verification_method: method(keys.publicKeyPem), fingerprint: signer });
  });

  test("one chain signed by another key among valid ones: the others are VALID, that one is named, exit 2", () => {
    const f = chainFixture(3, { chainId: "alpha", terminate: true });
    const stranger = writeKeyFiles(scratchDir("ar-e2e-key-"));
    makeChainDb(f.db, stranger.privateKeyPem, 4, { chainId: "foreign", terminate: true });
    makeChainDb(f.db, f.keys.privateKeyPem, 2, { chainId: "gamma" });
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/VALID\s+chain alpha\s+4 receipts/);
    expect(r.stdout).toMatch(/WRONG KEY\s+chain foreign\s+5 receipts/);
    expect(r.stdout).toMatch(/VALID\s+chain gamma\s+2 receipts/);
    expect(r.stderr).toContain("no receipt of chain foreign (5 receipts) verifies under it");
    const j = verifyJson(f.db, f.keys.publicKey);
    expect(j.chains.map((c) => [c.chain_id, c.valid, c.key_mismatch !== undefined])).toEqual([
      ["alpha", true, false],
      ["foreign", false, true],
      ["gamma", true, false],
    ]);
  });

  test("--file with the wrong key: exit 2 as for a database", () => {
    const f = chainFixture(3, { terminate: true });
    const file = join(f.dir, "export.jsonl");
    writeFileSync(file, `${exportLines(f.db, f.chainId).join("\n")}\n`);
    const other = otherKey(f.dir);
    const r = cli(["verify", "--file", file, "--public-key", other.path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/WRONG KEY\s+chain test-chain\s+4 receipts/);
    expect(r.stderr).toContain("does not match the receipts");
  });
});

describe("tampering is still tampering (exit 1), even where it starts at the first receipt", () => {
  test("the first receipt edited, the rest intact: BROKEN at index 0, bad signature", () => {
    const f = chainFixture(5);
    sql(f.db, "UPDATE receipts SET receipt_json = json_set(receipt_json, '$.credentialSubject.principal.id', 'did:user:mallory') WHERE sequence = 1");
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/BROKEN\s+chain test-chain\s+5 receipts/);
    expect(r.stdout).toMatch(/break at index 0 \(sequence 1,[^)]*\): bad signature/);
    expect(r.stdout).not.toContain("WRONG KEY");
    expect(r.stderr).toBe("");
  });

  test("thousands of receipts under another key before the first that verifies: the whole chain is read, BROKEN, not a wrong key", () => {
    // More receipts than the verifier has in flight at once (2 batches of 1024 per worker), so the
    // one receipt that verifies is only seen if checking goes on after the break.
    const dir = scratchDir("ar-e2e-key-");
    const keys = writeKeyFiles(dir);
    const stranger = writeKeyFiles(dir, "stranger.key");
    const db = join(dir, "receipts.db");
    makeChainDb(db, stranger.privateKeyPem, 9000, { chainId: "mixed", batch: 1000 });
    makeChainDb(db, keys.privateKeyPem, 1, { chainId: "mixed" });
    const j = verifyJson(db, keys.publicKey);
    expect(j.code).toBe(1);
    expect(j.key_mismatch).toBe(false);
    expect(j.chains).toHaveLength(1);
    expect(j.chains[0]).toMatchObject({ chain_id: "mixed", valid: false, count: 9001, break: { index: 0, reason: "bad_signature" } });
    // And under the stranger's key only the last receipt fails: tampering at index 9000, not a wrong key.
    const s = verifyJson(db, stranger.publicKey);
    expect(s.code).toBe(1);
    expect(s.chains[0]!.break).toMatchObject({ index: 9000, reason: "bad_signature" });
  });
});

describe("--file given something that holds no receipts: exit 2, not a receipts file", () => {
  const dir = scratchDir("ar-e2e-file-");
  const keys = writeKeyFiles(dir);

  test.each([
    ["/etc/passwd", "/etc/passwd", /\/etc\/passwd is not a receipts file: none of its \d+ lines is a receipt \(the first line: not JSON/],
    ["JSON Lines of other objects", "objects.jsonl", /objects\.jsonl is not a receipts file: none of its 3 lines is a receipt/],
    // A truly empty file (or only blank lines) is "nothing to verify", exit 0: verify-advisories.test.ts.
  ])("%s", (_name, name, message) => {
    const file = name.startsWith("/") ? name : join(dir, name);
    if (name === "objects.jsonl") writeFileSync(file, '{"a":1}\n{"b":[2]}\n{"credentialSubject":{}}\n');
    const r = cli(["verify", "--file", file, "--public-key", keys.publicKey]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain("--file takes JSON Lines, one receipt per line");
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  test("a receipts file with one garbage line is a broken chain (exit 1), not a wrong file", () => {
    const f = chainFixture(4);
    const lines = exportLines(f.db, f.chainId);
    lines[2] = "root:x:0:0:root:/root:/bin/bash";
    const file = join(f.dir, "damaged.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const r = cli(["verify", "--file", file, "--public-key", f.keys.publicKey]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/break at index 2 [^\n]*: malformed receipt/);
  });
});
