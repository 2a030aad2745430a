// Compiles the single executable, for this machine or a release target.
import type { ReleaseTarget } from "./targets.ts";

/** Every Worker file must be an entrypoint of the compiled binary. */
const ENTRYPOINTS = ["src/index.ts", "src/verify/worker.ts", "src/daemon/writer-worker.ts"];

export async function compile(root: string, outfile: string, target?: ReleaseTarget): Promise<void> {
  const result = await Bun.build({
    entrypoints: ENTRYPOINTS.map((p) => `${root}/${p}`),
    compile: target === undefined ? { outfile } : { outfile, target: `bun-${target}` },
    minify: { syntax: true, whitespace: true },
    sourcemap: "none",
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`build failed for ${target ?? "this machine"}`);
  }
  console.log(`built ${outfile}${target ? ` (${target})` : ""}`);
}
