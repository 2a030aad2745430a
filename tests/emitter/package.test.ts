// The npm package agent-receipts-emitter as a user gets it (`npm run build`
// first): `npm pack` of packages/emitter is small and holds only the emitter,
// installs offline on Node.js 20 without engine warnings, and the installed
// copy emits to a real daemon from the compiled binary and type-checks a
// strict Node16 consumer. Its bundle imports nothing but node: built-ins.
import { afterAll, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { payloadHash } from "../../src/receipt/canonical.ts";
import { startDaemon, type DaemonHandle } from "../helpers/daemon.ts";
import { ROOT, tempDir } from "../helpers/fixtures.ts";
import { readReceipts, verify } from "../daemon/support.ts";

const NAME = "agent-receipts-emitter";
const PACKAGE_DIR = join(ROOT, "packages", "emitter");
const MAX_PACKED_BYTES = 100_000;
const SLOW = 60_000;

interface Manifest {
  name: string;
  version: string;
  license?: string;
  type?: string;
  exports?: unknown;
  files?: string[];
  engines?: Record<string, string>;
  scripts?: Record<string, string>;
  [field: string]: unknown;
}

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;

/** Runs npm with node from PATH, without the npm_* variables an enclosing `npm test` exports, and a private cache. */
function npm(args: string[], cwd: string, cache: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const r = spawnSync("npm", args, { cwd, encoding: "utf8", timeout: SLOW, env: { ...env, npm_config_cache: cache, npm_config_update_notifier: "false" } });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

let packedOnce: { tarball: string; npmFiles: string[]; npmSize: number; cache: string } | undefined;
/** `npm pack ./packages/emitter` from the repository root (as the README says), once per run. */
function packed() {
  if (packedOnce !== undefined) return packedOnce;
  const dest = tempDir("ar-emitter-pack-");
  const cache = join(dest, "npm-cache");
  // "./": a bare "packages/emitter" would be read as a GitHub owner/repo.
  const r = npm(["pack", "./packages/emitter", "--json", "--pack-destination", dest], ROOT, cache);
  if (r.code !== 0) throw new Error(`npm pack failed (${r.code}):\n${r.output}`);
  const [info] = JSON.parse(r.stdout) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
  packedOnce = { tarball: join(dest, info!.filename), npmFiles: info!.files.map((f) => f.path).sort(), npmSize: info!.size, cache };
  return packedOnce;
}

let installedOnce: { project: string; output: string } | undefined;
/** A scratch Node.js project with only the packed tarball installed, offline. */
function installed() {
  if (installedOnce !== undefined) return installedOnce;
  const { tarball, cache } = packed();
  const project = tempDir("ar-emitter-user-");
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "emitter-user", version: "1.0.0", private: true, type: "module" }));
  const r = npm(["install", "--offline", "--no-audit", "--no-fund", tarball], project, cache);
  if (r.code !== 0) throw new Error(`npm install of ${tarball} failed (${r.code}):\n${r.output}`);
  installedOnce = { project, output: r.output };
  return installedOnce;
}

const daemons: DaemonHandle[] = [];
afterAll(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

test("packages/emitter/package.json: the root version, ESM with types, Node 20+, no dependencies, no scripts, the root LICENSE", () => {
  const pkg = manifestOf(PACKAGE_DIR);
  expect(pkg.name).toBe(NAME);
  expect(pkg.version).toBe(manifestOf(ROOT).version);
  expect(pkg.type).toBe("module");
  expect(pkg.license).toBe("Apache-2.0");
  expect(pkg.exports).toEqual({ ".": { types: "./dist/index.d.ts", import: "./dist/index.js" }, "./package.json": "./package.json" });
  expect(pkg.files).toEqual(["dist"]);
  expect(pkg.engines).toEqual({ node: ">=20" });
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies", "bundleDependencies", "bundledDependencies", "scripts", "bin", "gypfile"]) {
    expect(pkg[field]).toBeUndefined();
  }
  expect(readFileSync(join(PACKAGE_DIR, "LICENSE"), "utf8")).toBe(readFileSync(join(ROOT, "LICENSE"), "utf8"));
});

test("the root package is private (the binary ships as release tarballs), and what the binary bundles is a devDependency", () => {
  const root = manifestOf(ROOT);
  expect(root.private).toBe(true);
  expect(root.exports).toBeUndefined();
  expect(root.files).toBeUndefined();
  // The compiled binary loads nothing from node_modules at run time, so nothing is a runtime dependency.
  expect(root.dependencies).toBeUndefined();
  const src = join(ROOT, "src");
  const bare = new Set<string>();
  for (const file of filesUnder(src).filter((f) => f.endsWith(".ts"))) {
    for (const m of readFileSync(join(src, file), "utf8").matchAll(/(?<![.\w$])(?:from|import)\s*\(?\s*"([^".][^"]*)"/g)) {
      const spec = m[1]!;
      if (spec.startsWith("node:") || spec.startsWith("bun:") || spec === "bun") continue;
      bare.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
    }
  }
  expect(bare.size).toBeGreaterThan(0);
  const dev = Object.keys(root.devDependencies as Record<string, string>);
  expect([...bare].filter((name) => !dev.includes(name))).toEqual([]);
});

test(`npm pack: under ${MAX_PACKED_BYTES / 1000} kB, only the README, LICENSE, manifest and dist/ (bundle + declarations), no binary`, () => {
  const { tarball, npmFiles, npmSize } = packed();
  const size = statSync(tarball).size;
  expect(size).toBe(npmSize);
  expect(size).toBeLessThan(MAX_PACKED_BYTES);
  const list = spawnSync("tar", ["-tzf", tarball], { encoding: "utf8" });
  expect(list.status).toBe(0);
  const entries = list.stdout.split("\n").filter((l) => l !== "").sort();
  expect(entries.every((e) => e.startsWith("package/"))).toBe(true);
  const files = entries.map((e) => e.slice("package/".length));
  expect(files).toEqual(npmFiles);
  const expected = ["LICENSE", "README.md", "package.json", ...filesUnder(join(PACKAGE_DIR, "dist")).map((f) => `dist/${f}`)].sort();
  expect(files).toEqual(expected);
  expect(files).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts", "dist/types/emitter/index.d.ts"]));
  for (const f of files) expect(f).toMatch(/^(LICENSE|README\.md|package\.json|dist\/index\.js|dist\/.+\.d\.ts)$/);
}, SLOW);

test("installed from the tarball with npm --offline on Node.js 20: no engine warning, nothing else pulled in", () => {
  const { project, output } = installed();
  expect(spawnSync("node", ["--version"], { encoding: "utf8" }).stdout.startsWith("v20.")).toBe(true);
  expect(output).not.toMatch(/EBADENGINE|engine/i);
  expect(readdirSync(join(project, "node_modules")).filter((n) => !n.startsWith("."))).toEqual([NAME]);
  const lock = JSON.parse(readFileSync(join(project, "package-lock.json"), "utf8")) as { packages: Record<string, unknown> };
  expect(Object.keys(lock.packages).sort()).toEqual(["", `node_modules/${NAME}`]);
  expect(manifestOf(join(project, "node_modules", NAME))).toEqual(manifestOf(PACKAGE_DIR));
}, SLOW);

test("the installed bundle imports only node: built-ins", () => {
  const bundle = readFileSync(join(installed().project, "node_modules", NAME, "dist", "index.js"), "utf8");
  const imports = [...bundle.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!);
  expect(imports.length).toBeGreaterThan(0);
  expect(imports.filter((s) => !s.startsWith("node:"))).toEqual([]);
  expect(bundle).not.toMatch(/\bBun\./);
  expect(bundle).not.toMatch(/\brequire\(/);
}, SLOW);

function runNode(script: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn("node", [script, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

test("Node.js 20 imports the installed package and emits three events to the compiled daemon; the receipts are in the database and verify", async () => {
  const { project } = installed();
  const d = await startDaemon();
  daemons.push(d);
  const script = join(project, "emit.mjs");
  writeFileSync(script, `
    import { Emitter } from "${NAME}";
    const em = new Emitter({ channel: "sdk", socketPath: process.argv[2], strict: true });
    const results = [];
    for (let i = 0; i < 3; i++) {
      results.push(await em.emit({ tool: { name: "read_file", server: "fs" }, decision: "allowed", input: { i }, output: { bytes: i * 10 }, correlationId: "pkg-" + i }));
    }
    const confirmed = await em.close({ confirm: true, timeoutMs: 5000 });
    console.log(JSON.stringify({ resolved: import.meta.resolve("${NAME}"), session: em.sessionId, results, confirmed, node: process.version }));
  `);
  const r = await runNode(script, [d.socket], project);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { resolved: string; session: string; results: boolean[]; confirmed: boolean; node: string };
  expect(out.node.startsWith("v20.")).toBe(true);
  expect(out.resolved).toBe(`file://${join(project, "node_modules", NAME, "dist", "index.js")}`);
  expect(out.results).toEqual([true, true, true]);
  expect(out.confirmed).toBe(true);
  // Confirmed means committed: the three receipts are in the database now.
  const rows = readReceipts(d.db).filter((row) => row.receipt.issuer.session_id === out.session);
  expect(rows.map((row) => row.receipt.credentialSubject.correlation_id)).toEqual(["pkg-0", "pkg-1", "pkg-2"]);
  rows.forEach((row, i) => {
    expect(row.receipt.credentialSubject.action.type).toBe("sdk.fs.read_file");
    expect(row.receipt.credentialSubject.action.parameters_hash).toBe(payloadHash({ i }));
    expect(row.receipt.credentialSubject.outcome.response_hash).toBe(payloadHash({ bytes: i * 10 }));
  });
  const v = verify(d.db, d.publicKey);
  expect(v.code).toBe(0);
  expect(v.report.valid).toBe(true);
}, SLOW);

const CONSUMER = `
import { Emitter, EmitTransportError, EmitValidationError, DECISIONS, type EmitEvent, type EmitterOptions } from "${NAME}";
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

test("the installed declarations type-check a strict Node16 TypeScript consumer (tsc)", () => {
  const { project } = installed();
  writeFileSync(join(project, "consumer.ts"), CONSUMER);
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
    compilerOptions: {
      target: "ES2022", module: "node16", moduleResolution: "node16", strict: true, noEmit: true, skipLibCheck: false,
      types: ["node"], typeRoots: [join(ROOT, "node_modules", "@types")],
    },
    files: ["consumer.ts"],
  }));
  const r = spawnSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", project, "--traceResolution"], { encoding: "utf8" });
  // Resolved through the installed package's exports, not through this repository.
  expect(r.stdout).toContain(`Module name '${NAME}' was successfully resolved to '${join(project, "node_modules", NAME, "dist", "index.d.ts")}'`);
  const diagnostics = r.stdout.split("\n").filter((l) => /error TS\d+/.test(l));
  expect(diagnostics).toEqual([]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
}, SLOW);
