// Release artefacts of `scripts/build.ts --all`: builds this machine's target
// into a temporary directory (dist/ is left alone) and checks the tarball entry
// by entry from its own headers, runs the binary it holds, verifies SHA256SUMS
// with sha256sum; fills the Homebrew formula and has Ruby parse it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { fillFormula, type FormulaAsset } from "../../scripts/release/formula.ts";
import { RELEASE_TARGETS, type ReleaseTarget } from "../../scripts/release/targets.ts";
import { ROOT, tempDir } from "../helpers/fixtures.ts";
import { systemTool, toolPath } from "../helpers/tools.ts";

const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const TEMPLATE = join(ROOT, "packaging", "homebrew", "agent-receipts.rb");
/** Fixed so the test can check every entry carries exactly this mtime. */
const EPOCH = 1_700_000_000;

// Each run leaves a ~50 MB tarball and a ~110 MB extracted binary otherwise.
const made: string[] = [];
function scratch(prefix: string): string {
  const dir = tempDir(prefix);
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  const result = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined) throw result.error;
  return result;
}

const RUBY = systemTool("ruby", "ruby (e.g. apt-get install ruby)");

/** A missing core tool is a failure with the fix in the message, never a skip. */
function requireTool(name: string, install: string): string {
  const path = Bun.which(name);
  if (path === null) throw new Error(`"${name}" is not on PATH: install ${install} to run this test`);
  return path;
}

function buildScript(args: string[]): SpawnSyncReturns<string> {
  return run(process.execPath, [join(ROOT, "scripts", "build.ts"), ...args], { cwd: ROOT, env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } });
}

interface TarEntry {
  path: string;
  type: "file" | "dir" | "other";
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
}

/** Reads the tar headers directly, so the check does not depend on how GNU tar or bsdtar print listings. */
function readTarball(file: string): TarEntry[] {
  const data = gunzipSync(readFileSync(file));
  const entries: TarEntry[] = [];
  let longPath: string | undefined;
  for (let off = 0; off + 512 <= data.length; ) {
    const h = data.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (from: number, to: number): string => h.subarray(from, to).toString("utf8").replace(/\0[\s\S]*$/, "");
    const oct = (from: number, to: number): number => parseInt(str(from, to).trim() || "0", 8);
    const size = oct(124, 136);
    const flag = String.fromCharCode(h[156]!);
    const body = data.subarray(off + 512, off + 512 + size).toString("utf8");
    off += 512 + Math.ceil(size / 512) * 512;
    // GNU long-name ('L') and pax ('x') records carry the name of the next entry.
    if (flag === "L") longPath = body.replace(/\0[\s\S]*$/, "");
    if (flag === "x") longPath = /\d+ path=([^\n]*)\n/.exec(body)?.[1] ?? longPath;
    if (flag === "L" || flag === "x") continue;
    const ustarPrefix = str(257, 263) === "ustar" ? str(345, 500) : "";
    const name = longPath ?? (ustarPrefix ? `${ustarPrefix}/${str(0, 100)}` : str(0, 100));
    longPath = undefined;
    entries.push({
      path: name.replace(/\/$/, ""),
      type: flag === "5" ? "dir" : flag === "0" || flag === "\0" ? "file" : "other",
      mode: oct(100, 108) & 0o7777,
      uid: oct(108, 116),
      gid: oct(116, 124),
      uname: str(265, 297),
      gname: str(297, 329),
      mtime: oct(136, 148),
    });
  }
  return entries;
}

/** Paths under `dir` relative to it, directories included: what the tarball should hold of packaging/. */
function treeOf(dir: string, prefix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? [`${prefix}/${name}`, ...treeOf(path, `${prefix}/${name}`)] : [`${prefix}/${name}`];
  });
}

describe("build.ts --all for this machine's target", () => {
  const host = `${process.platform}-${process.arch}`;
  const top = `agent-receipts-${VERSION}-${host}`;
  const tarballName = `${top}.tar.gz`;
  const outDir = join(scratch("ar-release-"), "release");
  let build: SpawnSyncReturns<string>;

  beforeAll(() => {
    if (!(RELEASE_TARGETS as readonly string[]).includes(host)) throw new Error(`this machine (${host}) is not a release target: ${RELEASE_TARGETS.join(", ")}`);
    build = buildScript(["--all", "--release-only", "--target", host, "--out", outDir]);
    if (build.status !== 0) throw new Error(`build failed (${build.status}):\n${build.stdout}\n${build.stderr}`);
  }, 120_000);

  test("prints progress, writes the tarball and SHA256SUMS, and skips the formula for a subset of targets", () => {
    expect(build.stdout).toContain(`built `);
    expect(build.stdout).toContain(`packed ${join(outDir, tarballName)}`);
    expect(build.stdout).toContain(`wrote ${join(outDir, "SHA256SUMS")}`);
    expect(build.stdout).toMatch(/skipped agent-receipts\.rb: .*needs all targets/);
    expect(readdirSync(outDir).sort()).toEqual(["SHA256SUMS", tarballName]);
  });

  test("the tarball holds exactly one top directory with the binary, README.md, LICENSE and packaging/", () => {
    const entries = readTarball(join(outDir, tarballName));
    const expected = [top, `${top}/agent-receipts`, `${top}/README.md`, `${top}/LICENSE`, `${top}/packaging`, ...treeOf(join(ROOT, "packaging"), `${top}/packaging`)];
    expect(entries.map((e) => e.path).sort()).toEqual(expected.sort());
    // Sorted entries are part of the reproducibility promise.
    expect(entries.map((e) => e.path)).toEqual(entries.map((e) => e.path).sort());
    const binary = entries.find((e) => e.path === `${top}/agent-receipts`)!;
    expect(binary.type).toBe("file");
    expect(binary.mode.toString(8)).toBe("755");
    for (const e of entries) {
      expect({ path: e.path, uid: e.uid, gid: e.gid, uname: e.uname, gname: e.gname, mtime: e.mtime }).toEqual({ path: e.path, uid: 0, gid: 0, uname: "", gname: "", mtime: EPOCH });
      expect(e.type).not.toBe("other");
    }
  });

  test("the extracted binary reports the package version and the files are the repo's", () => {
    const dir = scratch("ar-release-x-");
    const tar = run(requireTool("tar", "tar"), ["-xzf", join(outDir, tarballName), "-C", dir]);
    expect(tar.stderr).toBe("");
    expect(tar.status).toBe(0);
    const version = run(join(dir, top, "agent-receipts"), ["--version"]);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
    for (const file of ["README.md", "LICENSE", "packaging/homebrew/agent-receipts.rb"]) {
      expect(readFileSync(join(dir, top, file), "utf8")).toBe(readFileSync(join(ROOT, file), "utf8"));
    }
  });

  test("SHA256SUMS lists the tarball and passes sha256sum -c", () => {
    const sums = readFileSync(join(outDir, "SHA256SUMS"), "utf8");
    const digest = createHash("sha256").update(readFileSync(join(outDir, tarballName))).digest("hex");
    expect(sums).toBe(`${digest}  ${tarballName}\n`);
    const check = run(requireTool("sha256sum", "GNU coreutils"), ["-c", "SHA256SUMS"], { cwd: outDir });
    expect(check.stdout).toBe(`${tarballName}: OK\n`);
    expect(check.status).toBe(0);
  });
});

test("an unknown --target fails before building, naming the valid targets without a stack trace", () => {
  const outDir = join(scratch("ar-release-bad-"), "release");
  const result = buildScript(["--all", "--release-only", "--target", `linux-x64,plan9-mips`, "--out", outDir]);
  expect(result.status).toBe(2);
  expect(result.stderr).toContain(`unknown target "plan9-mips"; valid targets: ${RELEASE_TARGETS.join(", ")}`);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stdout).toBe("");
  expect(existsSync(outDir)).toBe(false);
});

describe("Homebrew formula", () => {
  const FAKE_VERSION = "9.8.7";
  /** Distinct per target, so a URL or checksum in the wrong block shows. */
  const fakeAsset = (t: ReleaseTarget): FormulaAsset => ({
    url: `https://downloads.example.test/v${FAKE_VERSION}/agent-receipts-${FAKE_VERSION}-${t}.tar.gz`,
    sha256: createHash("sha256").update(t).digest("hex"),
  });
  const assets = Object.fromEntries(RELEASE_TARGETS.map((t) => [t, fakeAsset(t)])) as Record<ReleaseTarget, FormulaAsset>;
  const BLOCKS: Record<ReleaseTarget, [string, string]> = {
    "darwin-arm64": ["on_macos do", "on_arm do"],
    "darwin-x64": ["on_macos do", "on_intel do"],
    "linux-arm64": ["on_linux do", "on_arm do"],
    "linux-x64": ["on_linux do", "on_intel do"],
  };

  /** The lines inside nested blocks (`on_macos do` … `end`), found by indentation. */
  function blockBody(text: string, path: readonly string[]): string {
    let lines = text.split("\n");
    for (const header of path) {
      const start = lines.findIndex((l) => l.trim() === header);
      if (start < 0) throw new Error(`no "${header}" block in:\n${lines.join("\n")}`);
      const indent = lines[start]!.length - lines[start]!.trimStart().length;
      const end = lines.findIndex((l, i) => i > start && l === `${" ".repeat(indent)}end`);
      if (end < 0) throw new Error(`"${header}" block has no end`);
      lines = lines.slice(start + 1, end);
    }
    return lines.join("\n");
  }

  function expectRubySyntaxOk(file: string): void {
    const check = run(toolPath(RUBY, "ruby"), ["-c", file]);
    expect(check.stderr).toBe("");
    expect(check.stdout.trim()).toBe("Syntax OK");
    expect(check.status).toBe(0);
  }

  test.skipIf(RUBY.skip !== null)(`the template passes ruby -c and holds each placeholder once, inside a string${RUBY.skip ? ` (${RUBY.skip})` : ""}`, () => {
    expectRubySyntaxOk(TEMPLATE);
    const code = readFileSync(TEMPLATE, "utf8").split("\n").filter((l) => !l.startsWith("#"));
    const expected = ["@VERSION@", ...RELEASE_TARGETS.flatMap((t) => [`@URL_${t.toUpperCase().replace("-", "_")}@`, `@SHA256_${t.toUpperCase().replace("-", "_")}@`])];
    expect([...(code.join("\n").match(/@[A-Z0-9_]+@/g) ?? [])].sort()).toEqual(expected.sort());
    for (const line of code.filter((l) => l.includes("@"))) expect(line).toMatch(/^[^"]*"@[A-Z0-9_]+@"$/);
  });

  test.skipIf(RUBY.skip !== null)(`a filled formula replaces every placeholder, puts each URL and sha256 in its on_* block, and passes ruby -c${RUBY.skip ? ` (${RUBY.skip})` : ""}`, () => {
    const filled = fillFormula(readFileSync(TEMPLATE, "utf8"), { version: FAKE_VERSION, assets });
    expect(filled).not.toMatch(/@[A-Z0-9_]+@/);
    expect(filled).toContain(`  version "${FAKE_VERSION}"\n`);
    for (const target of RELEASE_TARGETS) {
      const body = blockBody(filled, BLOCKS[target]);
      expect(body.match(/^\s*(url|sha256) .*$/gm)?.map((l) => l.trim())).toEqual([`url "${assets[target].url}"`, `sha256 "${assets[target].sha256}"`]);
    }
    expect(blockBody(filled, ["def install"]).trim()).toBe('bin.install "agent-receipts"');
    const service = blockBody(filled, ["service do"]);
    expect(service).toContain('run [opt_bin/"agent-receipts", "daemon"');
    expect(service).toMatch(/^\s*keep_alive /m);
    expect(service).toContain('log_path var/"log/');
    expect(service).toContain('error_log_path var/"log/');
    expect(blockBody(filled, ["test do"])).toContain('assert_equal version.to_s, shell_output("#{bin}/agent-receipts --version").strip');
    const file = join(scratch("ar-formula-"), "agent-receipts.rb");
    writeFileSync(file, filled);
    expectRubySyntaxOk(file);
  });

  test("fillFormula refuses values that would break out of a Ruby string or are not checksums", () => {
    const template = readFileSync(TEMPLATE, "utf8");
    const withAsset = (asset: FormulaAsset) => ({ version: FAKE_VERSION, assets: { ...assets, "linux-x64": asset } });
    expect(() => fillFormula(template, withAsset({ ...assets["linux-x64"], url: 'https://x.test/a".tar.gz' }))).toThrow(/@URL_LINUX_X64@/);
    expect(() => fillFormula(template, withAsset({ ...assets["linux-x64"], url: "https://x.test/#{system}" }))).toThrow(/@URL_LINUX_X64@/);
    expect(() => fillFormula(template, withAsset({ ...assets["linux-x64"], sha256: "ABC" }))).toThrow(/@SHA256_LINUX_X64@/);
    expect(() => fillFormula(template.replace("@SHA256_DARWIN_X64@", "@SHA256_DARWIN_X86@"), { version: FAKE_VERSION, assets })).toThrow(/@SHA256_DARWIN_X64@/);
  });
});
