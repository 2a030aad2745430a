// Command-line flags of scripts/build.ts.
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { parseTargets, RELEASE_TARGETS, type ReleaseTarget } from "./targets.ts";
import { UsageError } from "./usage-error.ts";

export interface BuildOptions {
  help: boolean;
  /** Build the release artefacts (tarballs, SHA256SUMS, formula). */
  all: boolean;
  /** Skip the host binary and the emitter package (only with --all). */
  releaseOnly: boolean;
  targets: ReleaseTarget[];
  /** Absolute release directory. */
  outDir: string;
  /** Base URL of the release downloads; undefined = the GitHub release of this version. */
  releaseUrl: string | undefined;
}

export const USAGE = `usage: bun scripts/build.ts [--all [--target <os-arch>[,...]]... [--out <dir>] [--release-url <base>] [--release-only]]

  (no flags)            build dist/agent-receipts for this machine and the emitter package packages/emitter/dist
  --all                 also build the release: one .tar.gz per target, SHA256SUMS and the Homebrew formula
  --target <os-arch>    only these targets (repeatable or comma-separated): ${RELEASE_TARGETS.join(", ")}
  --out <dir>           release directory (default dist/release)
  --release-url <base>  download URL base written into the formula
                        (default https://github.com/agent-receipts/agent-receipts/releases/download/v<version>)
  --release-only        build only the release, not dist/agent-receipts and packages/emitter/dist
`;

export function parseBuildArgs(argv: readonly string[], defaultOutDir: string): BuildOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: "boolean", short: "h" },
        all: { type: "boolean" },
        "release-only": { type: "boolean" },
        target: { type: "string", multiple: true },
        out: { type: "string" },
        "release-url": { type: "string" },
      },
    });
  } catch (err) {
    // node:util reports unknown flags and missing values as thrown errors; they are usage errors here.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  const releaseFlags = (["target", "out", "release-url", "release-only"] as const).filter((f) => v[f] !== undefined);
  if (!v.all && releaseFlags.length > 0) throw new UsageError(`${releaseFlags.map((f) => `--${f}`).join(", ")} need --all`);
  if (v.out === "") throw new UsageError("--out needs a directory");
  return {
    help: v.help ?? false,
    all: v.all ?? false,
    releaseOnly: v["release-only"] ?? false,
    targets: parseTargets(v.target ?? []),
    outDir: v.out === undefined ? defaultOutDir : resolve(v.out),
    releaseUrl: v["release-url"] === undefined ? undefined : checkReleaseUrl(v["release-url"]),
  };
}

/** The base must be an http(s) URL; the trailing slash is dropped so `<base>/<file>` has one. */
function checkReleaseUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--release-url "${base}" is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError(`--release-url must be http(s), not "${url.protocol}"`);
  return base.replace(/\/+$/, "");
}
