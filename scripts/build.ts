// Builds the single executable `dist/agent-receipts` for this machine, the
// Node.js emitter package (`dist/emitter`), and with --all the release binaries
// for linux/darwin x64/arm64 into dist/release/ with SHA256SUMS.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const DIST = join(ROOT, "dist");
/** Every Worker file must be an entrypoint of the compiled binary. */
const ENTRYPOINTS = ["src/index.ts", "src/verify/worker.ts", "src/daemon/writer-worker.ts"].map((p) => join(ROOT, p));
const RELEASE_TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"] as const;

async function compile(outfile: string, target?: string): Promise<void> {
  const result = await Bun.build({
    entrypoints: ENTRYPOINTS,
    compile: target === undefined ? { outfile } : { outfile, target: `bun-${target}` as Bun.Build.CompileTarget },
    minify: { syntax: true, whitespace: true },
    sourcemap: "none",
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`build failed for ${target ?? "this machine"}`);
  }
  console.log(`built ${outfile}${target ? ` (${target})` : ""}`);
}

mkdirSync(DIST, { recursive: true });
await compile(join(DIST, "agent-receipts"));
await (await import("./build-emitter.ts")).buildEmitter();

if (process.argv.includes("--all")) {
  const releaseDir = join(DIST, "release");
  rmSync(releaseDir, { recursive: true, force: true });
  mkdirSync(releaseDir, { recursive: true });
  const sums: string[] = [];
  for (const target of RELEASE_TARGETS) {
    const out = join(releaseDir, `agent-receipts-${target}`);
    await compile(out, target);
    sums.push(`${createHash("sha256").update(readFileSync(out)).digest("hex")}  ${basename(out)}`);
  }
  writeFileSync(join(releaseDir, "SHA256SUMS"), `${sums.join("\n")}\n`);
  console.log(`wrote ${join(releaseDir, "SHA256SUMS")}`);
}
