// Builds the single executable `dist/agent-receipts` for this machine and the
// npm package agent-receipts-emitter (into `packages/emitter/dist`); with
// --all also the release for linux/darwin x64/arm64 (see scripts/release/ and
// `--help`).
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseBuildArgs, USAGE } from "./release/args.ts";
import { compile } from "./release/compile.ts";
import { buildRelease, type ReleaseOptions } from "./release/release.ts";
import { sourceDateEpoch } from "./release/source-date.ts";
import { UsageError } from "./release/usage-error.ts";

const ROOT = join(import.meta.dir, "..");
const DIST = join(ROOT, "dist");

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
}

async function main(): Promise<void> {
  // Flags are checked before anything is built, so a typo costs nothing.
  const opts = parseBuildArgs(process.argv.slice(2), join(DIST, "release"));
  if (opts.help) {
    process.stdout.write(USAGE);
    return;
  }
  // Worked out before compiling, so a bad SOURCE_DATE_EPOCH does not wait for a host build.
  const release: ReleaseOptions | undefined = opts.all
    ? { root: ROOT, version: packageVersion(), targets: opts.targets, outDir: opts.outDir, releaseUrl: opts.releaseUrl, mtime: sourceDateEpoch(ROOT) }
    : undefined;
  if (!opts.releaseOnly) {
    mkdirSync(DIST, { recursive: true });
    await compile(ROOT, join(DIST, "agent-receipts"));
    await (await import("./build-emitter.ts")).buildEmitter();
  }
  if (release !== undefined) await buildRelease(release);
}

try {
  await main();
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`build.ts: ${err.message}\nRun "bun scripts/build.ts --help" for the flags.`);
  process.exit(2);
}
