// The bytecode build for every release target: each binary embeds the CLI and
// both Worker entrypoints (the daemon's writer, verify's pool), and the
// linux-arm64 one runs a daemon, an emit and a verify under qemu-user (where
// installed; .ci/run installs it) — so workers work in a cross-compiled binary.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { openSync, readFileSync, readSync, closeSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { compile } from "../../scripts/release/compile.ts";
import { RELEASE_TARGETS, type ReleaseTarget } from "../../scripts/release/targets.ts";
import { WORKERS } from "../../src/runtime/workers.ts";
import { ROOT, tempDir } from "../helpers/fixtures.ts";
import { systemTool } from "../helpers/tools.ts";

const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const out = tempDir("ar-targets-");
const binary = (t: ReleaseTarget) => join(out, `agent-receipts-${t}`);

beforeAll(async () => {
  for (const t of RELEASE_TARGETS) await compile(ROOT, binary(t), t);
}, 240_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

function head(path: string, n: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, 0);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** ELF e_machine / Mach-O cputype of the file, as the target name spells the arch. */
function archOf(path: string): string {
  const h = head(path, 20);
  if (h.readUInt32BE(0) === 0x7f454c46) return `linux-${{ 0x3e: "x64", 0xb7: "arm64" }[h.readUInt16LE(18)] ?? "?"}`;
  if (h.readUInt32LE(0) === 0xfeedfacf) return `darwin-${{ 0x01000007: "x64", 0x0100000c: "arm64" }[h.readUInt32LE(4)] ?? "?"}`;
  return "unknown";
}

describe("every release target", () => {
  for (const t of RELEASE_TARGETS) {
    test(`${t}: the right executable format, with every Worker entrypoint embedded`, () => {
      expect(archOf(binary(t))).toBe(t);
      const bytes = readFileSync(binary(t));
      for (const entry of Object.values(WORKERS).map((w) => w.replace(/\.ts$/, ".js"))) {
        expect({ t, entry, embedded: bytes.includes(`/$bunfs/root/${entry}`) }).toEqual({ t, entry, embedded: true });
      }
    });
  }
});

const QEMU = systemTool("qemu-aarch64", "qemu-user and libc6-arm64-cross (apt-get install qemu-user libc6-arm64-cross)");
const ARM64_LIBC = "/usr/aarch64-linux-gnu";

test.skipIf(QEMU.skip !== null || process.arch !== "x64")(`linux-arm64 under qemu: --version, then a daemon, one emit and verify (writer thread and verify pool)${QEMU.skip ? ` (${QEMU.skip})` : ""}`, () => {
  const wrapper = join(out, "agent-receipts-arm64-qemu");
  writeFileSync(wrapper, `#!/bin/sh\nQEMU_LD_PREFIX=${ARM64_LIBC} exec ${QEMU.path} ${binary("linux-arm64")} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const version = spawnSync(wrapper, ["--version"], { encoding: "utf8" });
  expect(version.stdout).toBe(`${VERSION}\n`);
  const smoke = spawnSync("bash", [join(ROOT, "scripts", "smoke.sh"), wrapper], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  expect(smoke.stderr).not.toContain("error");
  expect(smoke.stdout).toContain("smoke:");
  expect(smoke.stdout).toContain("VALID");
  expect(smoke.status).toBe(0);
}, 180_000);
