// Packs one staged directory into a .tar.gz with the system tar (GNU tar or
// bsdtar), as reproducibly as they allow: entries in sorted order, owner and
// group 0 without names, one fixed mtime, gzip header without name or time.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

type TarFlavour = "gnu" | "bsd";

function tarFlavour(): TarFlavour {
  const version = spawnSync("tar", ["--version"], { encoding: "utf8" });
  if (version.error !== undefined || version.status !== 0) throw new Error("`tar` is not available; install GNU tar or bsdtar");
  if (version.stdout.includes("GNU tar")) return "gnu";
  if (version.stdout.includes("bsdtar")) return "bsd";
  throw new Error(`unknown tar (${version.stdout.split("\n")[0]}); need GNU tar or bsdtar`);
}

/** `top` and everything under it, parents before children, siblings sorted by name (tar's --sort=name order). */
function listEntries(parent: string, top: string): string[] {
  const out = [top];
  if (statSync(join(parent, top)).isDirectory()) {
    for (const name of readdirSync(join(parent, top)).sort()) out.push(...listEntries(parent, `${top}/${name}`));
  }
  return out;
}

function ownershipFlags(flavour: TarFlavour): string[] {
  return flavour === "gnu"
    ? ["--format=gnu", "--owner=0", "--group=0", "--numeric-owner"]
    : ["--uid", "0", "--gid", "0", "--numeric-owner", "--no-xattrs", "--no-acls", "--no-fflags"];
}

/**
 * Archives `<parent>/<top>` (entry names start with `top/`) into `outFile`.
 * Sets every staged entry's mtime to `mtime` (seconds) first.
 */
export function packTarball(parent: string, top: string, outFile: string, mtime: number): void {
  const flavour = tarFlavour();
  const entries = listEntries(parent, top);
  for (const entry of entries) utimesSync(join(parent, entry), mtime, mtime);
  const tarFile = `${outFile}.tmp.tar`;
  const tar = spawnSync(
    "tar",
    // --no-recursion + the explicit sorted list fixes the order for both flavours (bsdtar has no --sort).
    ["-c", "-f", tarFile, "--no-recursion", ...ownershipFlags(flavour), "-C", parent, ...entries],
    // COPYFILE_DISABLE keeps macOS bsdtar from adding ._* AppleDouble entries.
    { encoding: "utf8", env: { ...process.env, COPYFILE_DISABLE: "1" } },
  );
  try {
    if (tar.error !== undefined || tar.status !== 0) throw new Error(`tar failed for ${outFile}: ${tar.error?.message ?? tar.stderr.trim()}`);
    // zlib writes no file name and mtime 0 in the gzip header, like `gzip -n`.
    writeFileSync(outFile, gzipSync(readFileSync(tarFile), { level: 9 }));
  } finally {
    rmSync(tarFile, { force: true });
  }
}
