// `build.ts --all`: per target a tarball, then SHA256SUMS and, when every
// target was built, the filled Homebrew formula.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "./compile.ts";
import { fillFormula, type FormulaAsset } from "./formula.ts";
import { stageFiles } from "./stage.ts";
import { sha256File, writeSums } from "./sums.ts";
import { packTarball } from "./tarball.ts";
import { RELEASE_TARGETS, type ReleaseTarget } from "./targets.ts";

export interface ReleaseOptions {
  root: string;
  version: string;
  targets: readonly ReleaseTarget[];
  outDir: string;
  /** Download URL base for the formula; undefined = this version's GitHub release. */
  releaseUrl: string | undefined;
  /** mtime (seconds) of every tarball entry. */
  mtime: number;
}

export const FORMULA_TEMPLATE = "packaging/homebrew/agent-receipts.rb";
export const FORMULA_FILE = "agent-receipts.rb";

export function releaseName(version: string, target: ReleaseTarget): string {
  return `agent-receipts-${version}-${target}`;
}

export function defaultReleaseUrl(version: string): string {
  return `https://github.com/agent-receipts/agent-receipts/releases/download/v${version}`;
}

/** Removes only what an earlier release build wrote, so --out can point at a directory holding other files. */
function cleanOutDir(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  for (const name of readdirSync(outDir)) {
    if (name.startsWith("agent-receipts-") || name === "SHA256SUMS" || name === FORMULA_FILE) rmSync(join(outDir, name), { recursive: true, force: true });
  }
}

async function buildTarball(opts: ReleaseOptions, target: ReleaseTarget): Promise<string> {
  const name = releaseName(opts.version, target);
  const stage = mkdtempSync(join(tmpdir(), "agent-receipts-release-"));
  try {
    stageFiles(opts.root, join(stage, name));
    const binary = join(stage, name, "agent-receipts");
    await compile(opts.root, binary, target);
    chmodSync(binary, 0o755); // explicit, like every staged mode: not left to the compiler or umask
    const tarball = join(opts.outDir, `${name}.tar.gz`);
    packTarball(stage, name, tarball, opts.mtime);
    console.log(`packed ${tarball}`);
    return tarball;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export async function buildRelease(opts: ReleaseOptions): Promise<void> {
  cleanOutDir(opts.outDir);
  const sums = new Map<string, string>();
  const assets = new Map<ReleaseTarget, FormulaAsset>();
  const base = opts.releaseUrl ?? defaultReleaseUrl(opts.version);
  for (const target of opts.targets) {
    const tarball = await buildTarball(opts, target);
    const file = `${releaseName(opts.version, target)}.tar.gz`;
    const sha256 = await sha256File(tarball);
    sums.set(file, sha256);
    assets.set(target, { url: `${base}/${file}`, sha256 });
  }
  console.log(`wrote ${writeSums(opts.outDir, sums)}`);

  const missing = RELEASE_TARGETS.filter((t) => !assets.has(t));
  if (missing.length > 0) {
    // A formula with a hole would install nothing (or a wrong file) on the missing platforms.
    console.log(`skipped ${FORMULA_FILE}: the Homebrew formula needs all targets; not built: ${missing.join(", ")}`);
    return;
  }
  const complete = Object.fromEntries(assets) as Record<ReleaseTarget, FormulaAsset>;
  const formula = fillFormula(readFileSync(join(opts.root, FORMULA_TEMPLATE), "utf8"), { version: opts.version, assets: complete });
  const out = join(opts.outDir, FORMULA_FILE);
  writeFileSync(out, formula);
  console.log(`wrote ${out}`);
}
