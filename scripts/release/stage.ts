// Lays out what goes into a release tarball besides the binary: README.md,
// LICENSE and the whole packaging/ directory, with modes set explicitly so the
// archive does not depend on the builder's umask or checkout.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Top-level repo entries shipped next to the binary. */
export const RELEASE_FILES = ["README.md", "LICENSE", "packaging"] as const;

export function stageFiles(root: string, topDir: string): void {
  mkdirSync(topDir, { recursive: true });
  chmodSync(topDir, 0o755);
  for (const name of RELEASE_FILES) {
    const source = join(root, name);
    if (!existsSync(source)) throw new Error(`${source} is missing; a release tarball must contain it`);
    copyTree(source, join(topDir, name));
  }
}

/** Copies files and directories, following symlinks (the tarball holds plain files only). */
function copyTree(source: string, dest: string): void {
  const stat = statSync(source);
  if (stat.isDirectory()) {
    mkdirSync(dest);
    chmodSync(dest, 0o755);
    for (const entry of readdirSync(source)) copyTree(join(source, entry), join(dest, entry));
  } else if (stat.isFile()) {
    copyFileSync(source, dest);
    // Keep "is executable" (a script someone adds to packaging/), drop everything else.
    chmodSync(dest, stat.mode & 0o111 ? 0o755 : 0o644);
  } else {
    throw new Error(`${source} is neither a file nor a directory; cannot ship it in a release tarball`);
  }
}
