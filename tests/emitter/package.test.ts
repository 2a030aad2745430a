// The published shape of `agent-receipts/emitter` (`npm run build` first): its
// declarations type-check a strict Node16 consumer, and its bundle imports
// nothing but node: built-ins.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempDir } from "../helpers/fixtures.ts";

const CONSUMER = `
import { Emitter, EmitTransportError, EmitValidationError, DECISIONS, type EmitEvent, type EmitterOptions } from "agent-receipts/emitter";
interface ReadInput { path: string }
const input: ReadInput = { path: "/x" };
const options: EmitterOptions = { channel: "sdk", strict: true, issuer: { name: "agent" }, operator: { id: "op" } };
const em = new Emitter(options);
const event: EmitEvent = { tool: { name: "read", server: "fs" }, decision: DECISIONS[0], input, target: { system: "filesystem", resource: "/x" } };
export async function send(): Promise<boolean> {
  try {
    return await em.emit(event);
  } catch (err) {
    if (err instanceof EmitTransportError) return err.kind === "queue_full";
    if (err instanceof EmitValidationError) throw new Error(err.field);
    throw err;
  }
}
const counts: number = em.dropped + em.unreportedDrops + em.queuedBytes;
const session: string = em.sessionId;
// @ts-expect-error an unknown decision is a type error, so the declarations are not \`any\`
void em.emit({ tool: { name: "x" }, decision: "maybe" });
const confirmed: Promise<boolean> = em.close({ confirm: true, timeoutMs: 100 });
void counts; void session; void confirmed;
`;

test("the declarations type-check a strict Node16 consumer of agent-receipts/emitter", () => {
  const dir = tempDir("ar-consumer-");
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(ROOT, join(dir, "node_modules", "agent-receipts"));
  writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
  writeFileSync(join(dir, "consumer.ts"), CONSUMER);
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
    compilerOptions: {
      target: "ES2022", module: "node16", moduleResolution: "node16", strict: true, noEmit: true, skipLibCheck: false,
      types: ["node"], typeRoots: [join(ROOT, "node_modules", "@types")],
    },
    files: ["consumer.ts"],
  }));
  const r = spawnSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", dir], { encoding: "utf8" });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});

test("the bundle imports only node: built-ins", () => {
  const bundle = readFileSync(join(ROOT, "dist", "emitter", "index.js"), "utf8");
  const imports = [...bundle.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!);
  expect(imports.length).toBeGreaterThan(0);
  expect(imports.filter((s) => !s.startsWith("node:"))).toEqual([]);
  expect(bundle).not.toMatch(/\bBun\./);
});
