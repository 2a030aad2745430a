// System tools that `npm ci` does not install (ruby, systemd-analyze, ...):
// CI installs them (.ci/run), so there a missing one is a failure; elsewhere
// the tests that need it are skipped, and the skip names the tool and the fix.
export const IN_CI = process.env.CI === "true" || process.env.CI === "1";

export interface Tool {
  path: string | null;
  /** Why tests using it are skipped; null when they run. */
  skip: string | null;
}

export function systemTool(name: string, install: string): Tool {
  const path = Bun.which(name);
  if (path !== null || IN_CI) return { path, skip: null };
  return { path, skip: `skipped: "${name}" is not on PATH; install ${install} (.ci/run does)` };
}

/** The tool's path; in CI, a missing tool fails the test with the fix in the message. */
export function toolPath(tool: Tool, name: string): string {
  if (tool.path === null) throw new Error(`"${name}" is not on PATH: .ci/run installs it; install it to run this test`);
  return tool.path;
}
