// The streaming reader of long lines: whatever the split into reads (escaped
// quotes and backslash runs across read boundaries included), its skeleton
// keeps exactly the values JSON.parse gives near the top, and nothing deep.
import { describe, expect, test } from "bun:test";
import { OMITTED, SkeletonParser } from "../../src/mcp-proxy/skeleton.ts";
import { LineSplitter, type Line } from "../../src/mcp-proxy/lines.ts";
import { forEachArrayElement } from "../../src/mcp-proxy/batch.ts";

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
  const long = JSON.stringify({ id: 5, result: { content: [{ type: "text", text: "z".repeat(100) }], structured: { n: 1 } } });
  const input = Buffer.from(`{"id":1}\nnoise\n${long}\n{"id":2}`);
  for (let i = 0; i < input.length; i += 5) splitter.push(input.subarray(i, i + 5));
  splitter.finish();
  expect(got.map((l) => [l.value, l.complete, l.bytes])).toEqual([
    [{ id: 1 }, true, 8], [undefined, true, 5], [{ id: 5, result: { content: [{ type: "text", text: "z".repeat(100) }] } }, false, long.length], [{ id: 2 }, true, 8],
  ]);
  expect(got[2]!.digest()).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(long).digest("hex")}`);
});

test("nesting millions deep costs a bit per level, not an object: the heap stays small, and brackets are still matched", () => {
  const p = new SkeletonParser({ maxDepth: 4, maxString: 64, maxEntries: 8 });
  // 8 Mi levels, half arrays, half objects: [{"k":[{"k":... 1 ...}]}]
  const pairs = 1 << 16;
  const rounds = 64;
  const opens = Buffer.from('[{"k":'.repeat(pairs));
  Bun.gc(true);
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < rounds; i++) p.push(opens);
  Bun.gc(true);
  expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 * 1024 * 1024);
  p.push(Buffer.from("1"));
  const closes = Buffer.from("}]".repeat(pairs));
  for (let i = 0; i < rounds; i++) p.push(closes);
  expect(p.finish()).toEqual([{ k: [{ k: OMITTED }] }]);
  expect(skeletonOf(`${'[{"k":'.repeat(1000)}1${"]}".repeat(1000)}`, [])).toBeUndefined();
  expect(skeletonOf(`${'[{"k":'.repeat(1000)}1${"}]".repeat(999)}`, [])).toBeUndefined();
  expect(skeletonOf(`${'[{"k":'.repeat(1000)}1${"}]".repeat(1000)}`, [5, 777])).toEqual([{ k: [{ k: OMITTED }] }]);
  expect(skeletonOf(`${'[{"k":'.repeat(1000)}1,{"x":[]}${"}]".repeat(1000)}`, [5, 777])).toBeUndefined();
  expect(skeletonOf(`${'[{"k":'.repeat(1000)}1,{"x":[]}${"]}]".repeat(1)}${"}]".repeat(999)}`, [5, 777])).toBeUndefined();
  expect(skeletonOf(`${'[{"k":'.repeat(1000)}[1,{"x":[]}]${"}]".repeat(1000)}`, [5, 777])).toEqual([{ k: [{ k: OMITTED }] }]);
});

describe("messages mode (the line splitter's): what the tracker reads is kept whatever comes before it", () => {
  const parse = (text: string, cut = 0) => {
    const p = new SkeletonParser();
    const bytes = Buffer.from(text);
    p.push(bytes.subarray(0, cut));
    p.push(bytes.subarray(cut));
    return p.finish();
  };
  const pad = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i]));

  test("a thousand keys before params.name and method do not hide them", () => {
    const text = JSON.stringify({ jsonrpc: "2.0", id: 1, ...pad, params: { arguments: { a: [1, 2] }, ...pad, name: "delete_file", _meta: { ...pad, "claudecode/toolUseId": "toolu_1" } }, method: "tools/call" });
    expect(parse(text, 7)).toEqual({ jsonrpc: "2.0", id: 1, params: { arguments: OMITTED, name: "delete_file", _meta: { "claudecode/toolUseId": "toolu_1" } }, method: "tools/call" });
  });

  test("a batch keeps its first 1024 elements, with only what the tracker reads of each (the gated relay reads the others from the bytes)", () => {
    const batch = [7, "s", [1], { jsonrpc: "2.0", id: "x", method: "tools/call", params: { name: "echo", arguments: { deep: { deeper: 1 } } } },
      ...Array.from({ length: 3000 }, (_, i) => ({ jsonrpc: "2.0", method: "notifications/progress", params: { progress: i } }))];
    const s = parse(JSON.stringify(batch), 100) as unknown[];
    expect(s).toHaveLength(1024);
    expect(s.slice(0, 3)).toEqual([7, OMITTED, OMITTED]);
    expect(s[3]).toEqual({ jsonrpc: "2.0", id: "x", method: "tools/call", params: { name: "echo", arguments: OMITTED } });
    expect(s[4]).toEqual({ jsonrpc: "2.0", method: "notifications/progress", params: {} });
  });

  test("a response keeps what names the server and what makes an error text", () => {
    const r = { jsonrpc: "2.0", id: 2, result: { ...pad, serverInfo: { ...pad, name: "fs" }, isError: true, resultType: "complete", requestState: "s1",
      content: Array.from({ length: 40 }, (_, i) => ({ type: "text", text: `t${i}`, annotations: { a: 1 } })) }, error: { code: -1, message: "m", data: [1] } };
    expect(parse(JSON.stringify(r), 3)).toEqual({ jsonrpc: "2.0", id: 2, error: { code: -1, message: "m" },
      result: { serverInfo: { name: "fs" }, isError: true, resultType: "complete", requestState: "s1", content: Array.from({ length: 16 }, (_, i) => ({ type: "text", text: `t${i}` })) } });
  });
});

test("a line kept for the gated relay costs about its size, even when it arrives a byte per read", () => {
  let raw: Buffer[] | null = null;
  const splitter = new LineSplitter({ line: (_l, r) => (raw = r) }, 1024 * 1024, true);
  const text = Buffer.from(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"p":"${"a".repeat(2_000_000)}"}}}`);
  Bun.gc(true);
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < text.length; i++) splitter.push(text.subarray(i, i + 1));
  Bun.gc(true);
  expect(process.memoryUsage().heapUsed - before).toBeLessThan(32 * 1024 * 1024);
  splitter.push(Buffer.from("\n"));
  expect(Buffer.concat(raw!).equals(text)).toBe(true);
  // Long reads are kept as they are, between short ones.
  const big = Buffer.alloc(100_000, "b");
  for (const part of ["x", big, "y", "z", big, "\n"]) splitter.push(Buffer.from(part));
  expect(Buffer.concat(raw!).toString()).toBe(`x${"b".repeat(100_000)}yz${"b".repeat(100_000)}`);
  expect(raw!.filter((p) => p.length === 100_000)).toHaveLength(2);
});

test("batch elements as byte ranges: strings with brackets, commas, escaped quotes and backslashes, multi-byte UTF-8, whitespace", () => {
  const elements = ['{"a":"],[,\\"\\\\"}', '"x\\\\"', "[1,[2,{}]]", '"é€𝄞,]"', "null", "-1.5e3", '{"b":{"c":["\\\\\\""]}}'];
  const text = Buffer.from(` \r\n[ ${elements.join(" ,\n\t")} ]\r `);
  expect(JSON.parse(text.toString())).toHaveLength(elements.length);
  const got: string[] = [];
  expect(forEachArrayElement(text, (s, e, i) => got.push(`${i}:${text.subarray(s, e).toString()}`))).toBe(true);
  expect(got).toEqual(elements.map((e, i) => `${i}:${e}`));
  for (const empty of ["[]", " [ ] "]) expect(forEachArrayElement(Buffer.from(empty), () => expect.unreachable())).toBe(true);
  expect(forEachArrayElement(Buffer.from('{"a":[1]}'), () => expect.unreachable())).toBe(false);
});
