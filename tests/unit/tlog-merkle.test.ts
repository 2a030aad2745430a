// RFC 6962 proof verification against the transparency-dev/merkle vectors
// (tests/fixtures/merkle/README.md): every happy path accepted, every wrong
// proof rejected.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EMPTY_ROOT, leafHash, nodeHash, rootOfLeaves, verifyConsistency, verifyInclusion } from "../../src/tlog/merkle.ts";
import { ROOT } from "../helpers/fixtures.ts";

const DIR = join(ROOT, "tests", "fixtures", "merkle");
const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

interface InclusionCase { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; desc: string; wantErr: boolean }
interface ConsistencyCase { size1: number; size2: number; root1: string; root2: string; proof: string[] | null; desc: string; wantErr: boolean }

/** Every JSON case under tests/fixtures/merkle/<kind>, at any depth, by its relative path. */
function cases<T>(kind: string): Array<[string, T]> {
  const files = (readdirSync(join(DIR, kind), { recursive: true }) as string[]).filter((f) => f.endsWith(".json")).sort();
  return files.map((f) => [f, JSON.parse(readFileSync(join(DIR, kind, f), "utf8")) as T]);
}

describe("RFC 6962 vectors", () => {
  const inclusion = cases<InclusionCase>("inclusion");
  const consistency = cases<ConsistencyCase>("consistency");

  test("the fixtures are all there", () => {
    expect(inclusion.length).toBeGreaterThan(70);
    expect(consistency.length).toBeGreaterThan(80);
    expect(inclusion.filter(([, c]) => !c.wantErr).length).toBeGreaterThanOrEqual(6);
    expect(consistency.filter(([, c]) => !c.wantErr).length).toBeGreaterThanOrEqual(6);
  });

  test.each(inclusion)("inclusion %s", (_name, c) => {
    const ok = verifyInclusion(c.leafIdx, c.treeSize, b64(c.leafHash), (c.proof ?? []).map(b64), b64(c.root));
    expect(ok).toBe(!c.wantErr);
  });

  test.each(consistency)("consistency %s", (_name, c) => {
    const ok = verifyConsistency(c.size1, c.size2, (c.proof ?? []).map(b64), b64(c.root1), b64(c.root2));
    expect(ok).toBe(!c.wantErr);
  });
});

describe("hashing", () => {
  test("RFC 6962 domain separation and the empty root", () => {
    expect(Buffer.from(EMPTY_ROOT).toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // The leaf hash of the empty entry, from RFC 6962's test data.
    expect(Buffer.from(leafHash(new Uint8Array(0))).toString("hex")).toBe("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    const a = leafHash(new Uint8Array([1]));
    const b = leafHash(new Uint8Array([2]));
    expect(rootOfLeaves([a, b])).toEqual(nodeHash(a, b));
    expect(rootOfLeaves([a, b, a])).toEqual(nodeHash(nodeHash(a, b), a));
  });
});
