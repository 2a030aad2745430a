// The platforms a release ships for, and parsing --target values against them.
import { UsageError } from "./usage-error.ts";

export const RELEASE_TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"] as const;
export type ReleaseTarget = (typeof RELEASE_TARGETS)[number];

export function isReleaseTarget(value: string): value is ReleaseTarget {
  return (RELEASE_TARGETS as readonly string[]).includes(value);
}

/**
 * Parses repeated and/or comma-separated --target values. Returns the targets
 * in RELEASE_TARGETS order (so output does not depend on flag order), all of
 * them when none are given.
 */
export function parseTargets(values: readonly string[]): ReleaseTarget[] {
  const names = values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
  if (values.length > 0 && names.length === 0) throw new UsageError(`--target needs a value; valid targets: ${RELEASE_TARGETS.join(", ")}`);
  const unknown = names.filter((n) => !isReleaseTarget(n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown target ${unknown.map((u) => `"${u}"`).join(", ")}; valid targets: ${RELEASE_TARGETS.join(", ")}`);
  }
  if (names.length === 0) return [...RELEASE_TARGETS];
  return RELEASE_TARGETS.filter((t) => names.includes(t));
}
