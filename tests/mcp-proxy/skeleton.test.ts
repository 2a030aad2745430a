// The streaming reader of long lines: whatever the split into reads (escaped
// quotes and backslash runs across read boundaries included), its skeleton
// keeps exactly the values JSON.parse gives near the top, and nothing deep.
import { describe, expect, test } from "bun:test";
import { OMITTED, SkeletonParser } from "../../src/mcp-proxy/skeleton.ts";
import { LineSplitter, type Line } from "../../src/mcp-proxy/lines.ts";

function skeletonOf(text: string, cuts: number[]): unknown {
  const bytes = Buffer.from(text, "utf8");
  const p = new SkeletonParser({ maxDepth: 4, maxString: 64, maxEntries: 8 });
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    p.push(bytes.subarray(at, cut));
    at = cut;
  }
  return p.finish();
}

const MESSAGES = [
  { jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text: 'a "quoted" \\ back\\\\slash \\" end' }], isError: true } },
  { jsonrpc: "2.0", id: "a\\\"b", method: "tools/call", params: { name: "x\\", arguments: { deep: { deeper: [1, 2] } }, _meta: { "claudecode/toolUseId": "toolu_\\\\" } } },
  [{ jsonrpc: "2.0", id: 1, method: "m", params: { n: -1.5e-7, t: true, f: false, z: null } }, { jsonrpc: "2.0", method: "n" }],
  { "é€𝄞": "ü\u0000\n\t", "": [], e: {}, id: 1e21 },
];

describe("skeleton", () => {
  for (const [i, msg] of MESSAGES.entries()) {
    test(`message ${i}: every split into two and three reads gives the same skeleton as one read`, () => {
      const text = JSON.stringify(msg);
      const whole = skeletonOf(text, []);
      // Shallow messages are kept whole: exactly what JSON.parse reads.
      if (i !== 1) expect(whole).toEqual(JSON.parse(text));
      const n = Buffer.byteLength(text);
      for (let a = 0; a <= n; a++) {
        expect(skeletonOf(text, [a])).toEqual(whole);
        for (let b = a; b <= n; b += 7) expect(skeletonOf(text, [a, b])).toEqual(whole);
      }
    });
  }

  test("top-level values are kept as JSON.parse reads them; deep containers, long strings and entries past the cap are OMITTED", () => {
    const msg = MESSAGES[1]!;
    const s = skeletonOf(JSON.stringify(msg), []) as { id: unknown; params: Record<string, unknown> };
    expect(s.id).toBe("a\\\"b");
    expect(s.params.name).toBe("x\\");
    expect(s.params._meta).toEqual({ "claudecode/toolUseId": "toolu_\\\\" });
    expect((s.params.arguments as Record<string, unknown>).deep).toEqual({ deeper: OMITTED });
    const long = skeletonOf(JSON.stringify({ id: 1, text: "x".repeat(65), list: Array.from({ length: 10 }, (_, i) => i) }), []) as Record<string, unknown>;
    expect(long).toEqual({ id: 1, text: OMITTED, list: [0, 1, 2, 3, 4, 5, 6, 7] });
    expect(skeletonOf(JSON.stringify(MESSAGES[3]), [])).toEqual(MESSAGES[3]);
  });

  test("not JSON, or more than one value: undefined", () => {
    for (const text of ['{"a":1', '{"a":1}}', '{"a":tru}', "[1,2] 3", '{"a" 1}', '{"a":"\\x"}']) expect(skeletonOf(text, [])).toBeUndefined();
  });
});

test("the line splitter hands long lines over as skeletons with the whole line's size and hash, short ones parsed whole", () => {
  const got: Line[] = [];
  const splitter = new LineSplitter({ line: (l) => got.push(l) }, 32);
  const long = JSON.stringify({ id: 5, result: { text: "z".repeat(100) } });
  const input = Buffer.from(`{"id":1}\nnoise\n${long}\n{"id":2}`);
  for (let i = 0; i < input.length; i += 5) splitter.push(input.subarray(i, i + 5));
  splitter.finish();
  expect(got.map((l) => [l.value, l.complete, l.bytes])).toEqual([
    [{ id: 1 }, true, 8], [undefined, true, 5], [{ id: 5, result: { text: "z".repeat(100) } }, false, long.length], [{ id: 2 }, true, 8],
  ]);
  expect(got[2]!.digest()).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(long).digest("hex")}`);
});
