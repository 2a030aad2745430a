// The one timestamp every tarball entry carries, so rebuilding the same commit
// gives the same bytes: SOURCE_DATE_EPOCH (the reproducible-builds convention),
// else the time of the last git commit, else a constant.
import { spawnSync } from "node:child_process";
import { UsageError } from "./usage-error.ts";

/** 1980-01-01T00:00:00Z: the oldest time every archive format (zip included) can hold. */
const FALLBACK_EPOCH = 315_532_800;

export function sourceDateEpoch(root: string, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env.SOURCE_DATE_EPOCH;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!/^\d+$/.test(fromEnv)) throw new UsageError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, not "${fromEnv}"`);
    return Number(fromEnv);
  }
  const git = spawnSync("git", ["log", "-1", "--format=%ct"], { cwd: root, encoding: "utf8" });
  const fromGit = git.status === 0 ? git.stdout.trim() : "";
  return /^\d+$/.test(fromGit) ? Number(fromGit) : FALLBACK_EPOCH;
}
