// The repository's copies of the upstream vectors, and the product's own
// taxonomy, against their sources.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, SHARED_VECTORS, VECTORS } from "../helpers/fixtures.ts";

interface Taxonomy { domains: Record<string, { actions: Array<{ type: string; risk_level: string }> }> }

function riskTable(path: string): Map<string, string> {
  const taxonomy = JSON.parse(readFileSync(path, "utf8")) as Taxonomy;
  return new Map(Object.values(taxonomy.domains).flatMap((d) => d.actions.map((a) => [a.type, a.risk_level] as const)));
}

const copies = readdirSync(VECTORS).filter((f) => f.endsWith(".json"));

describe("test vector copies", () => {
  test("every copy is named with its sha256 in the fixtures README", () => {
    const readme = readFileSync(join(VECTORS, "README.md"), "utf8");
    expect(copies.length).toBeGreaterThan(5);
    for (const file of copies) {
      const sha = new Bun.CryptoHasher("sha256").update(readFileSync(join(VECTORS, file))).digest("hex");
      expect({ file, listed: readme.includes(`\`${file}\``) && readme.includes(sha) }).toEqual({ file, listed: true });
    }
  });

  const shared = existsSync(SHARED_VECTORS);
  test.skipIf(!shared)(`each copy equals ../shared/vectors/ (${shared ? "present" : "skipped: no ../shared/vectors beside this clone"})`, () => {
    for (const file of copies) {
      expect({ file, same: readFileSync(join(VECTORS, file)).equals(readFileSync(join(SHARED_VECTORS, file))) }).toEqual({ file, same: true });
    }
  });
});

test("the shipped taxonomy keeps every upstream action type at its upstream risk level", () => {
  const upstream = riskTable(join(VECTORS, "action-types.json"));
  const shipped = riskTable(join(ROOT, "src", "daemon", "pipeline", "action-types.json"));
  expect(upstream.size).toBeGreaterThan(10);
  for (const [type, risk] of upstream) expect({ type, risk: shipped.get(type) }).toEqual({ type, risk });
});
