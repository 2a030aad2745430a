// Builds the Node.js emitter package export `agent-receipts/emitter`:
// dist/emitter/index.js (one ESM file for Node.js 20+ and Bun, node: built-ins
// only) and its type declarations (tsc, tsconfig.emitter.json).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const OUT = join(ROOT, "dist", "emitter");
const TYPES = join(OUT, "types");

export async function buildEmitter(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  const result = await Bun.build({
    entrypoints: [join(ROOT, "src/emitter/index.ts")],
    outdir: OUT,
    naming: "index.js",
    target: "node",
    format: "esm",
    sourcemap: "none",
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error("emitter bundle failed");
  }
  const bundle = readFileSync(join(OUT, "index.js"), "utf8");
  // Guard the promise "no Bun-only APIs, no dependencies": only node: built-ins may be imported.
  const foreign = [...bundle.matchAll(/\bfrom\s*"([^"]+)"/g)].map((m) => m[1]!).filter((s) => !s.startsWith("node:"));
  if (foreign.length > 0 || /\bBun\./.test(bundle)) throw new Error(`emitter bundle must use node: built-ins only; found ${foreign.join(", ") || "Bun.*"}`);

  const tsc = spawnSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", join(ROOT, "tsconfig.emitter.json")], { stdio: "inherit" });
  if (tsc.status !== 0) throw new Error("emitter declarations failed (tsc -p tsconfig.emitter.json)");
  // The sources import "./x.ts"; published declarations must say "./x.js", which every resolver accepts.
  for (const entry of readdirSync(TYPES, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
    const file = join(entry.parentPath, entry.name);
    writeFileSync(file, readFileSync(file, "utf8").replace(/(from\s+"\.{1,2}\/[^"]*)\.ts"/g, '$1.js"'));
  }
  writeFileSync(join(OUT, "index.d.ts"), 'export * from "./types/emitter/index.js";\n');
  console.log(`built ${join(OUT, "index.js")} and its declarations`);
}

if (import.meta.main) await buildEmitter();
