// Builds the npm package `agent-receipts-emitter` (packages/emitter) from
// src/emitter: packages/emitter/dist/index.js (one ESM file for Node.js 20+
// and Bun, node: built-ins only) and its type declarations (tsc,
// tsconfig.emitter.json). `npm pack ./packages/emitter` then makes the tarball.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const EMITTER_PACKAGE = join(ROOT, "packages", "emitter");
const OUT = join(EMITTER_PACKAGE, "dist");
const TYPES = join(OUT, "types");

function versionOf(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
}

export async function buildEmitter(): Promise<void> {
  // The emitter is released with the binary: one version for both, kept by hand in both package.json files.
  const [root, emitter] = [versionOf(ROOT), versionOf(EMITTER_PACKAGE)];
  if (root !== emitter) throw new Error(`packages/emitter/package.json has version ${emitter}, package.json ${root}: set both to the same version`);
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
