// Where a Worker's module lives. In the compiled binary every worker is an
// extra entrypoint, embedded under /$bunfs/root/ by its path relative to src/
// (the entrypoints' common root); a relative path would instead be loaded from
// disk relative to the working directory, which must never happen.
import { join } from "node:path";

const SRC_DIR = join(import.meta.dir, "..");

export function isCompiled(): boolean {
  return import.meta.url.startsWith("file:///$bunfs/") || import.meta.dir.startsWith("/$bunfs/") || /^[A-Z]:\\~BUN\\/.test(import.meta.dir);
}

/** `srcRelative` like "verify/worker.ts". */
export function workerPath(srcRelative: string): string {
  if (isCompiled()) return `/$bunfs/root/${srcRelative.replace(/\.ts$/, ".js")}`;
  return join(SRC_DIR, srcRelative);
}
