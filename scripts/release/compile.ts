// Compiles the single executable, for this machine or a release target.
import { WORKERS } from "../../src/runtime/workers.ts";
import type { ReleaseTarget } from "./targets.ts";

/** The CLI, and every Worker file as an extra entrypoint of the compiled binary. */
const ENTRYPOINTS = ["src/index.ts", ...Object.values(WORKERS).map((w) => `src/${w}`)];

export async function compile(root: string, outfile: string, target?: ReleaseTarget): Promise<void> {
  const result = await Bun.build({
    entrypoints: ENTRYPOINTS.map((p) => `${root}/${p}`),
    compile: {
      outfile,
      ...(target === undefined ? {} : { target: `bun-${target}` as const }),
      // The binary runs in directories it does not control (an agent's project): a bunfig.toml
      // there could preload code into it, a .env could point it at another socket.
      autoloadBunfig: false,
      autoloadDotenv: false,
      autoloadPackageJson: false,
      autoloadTsconfig: false,
    },
    // Bytecode spares start-up the parse of the bundle; ESM keeps top-level await.
    bytecode: true,
    format: "esm",
    // Each command's modules in chunks of their own, read only when imported:
    // `--version`, `emit` and `hook` neither parse nor map the daemon's or verify's code.
    splitting: true,
    minify: { syntax: true, whitespace: true },
    sourcemap: "none",
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`build failed for ${target ?? "this machine"}`);
  }
  console.log(`built ${outfile}${target ? ` (${target})` : ""}`);
}
