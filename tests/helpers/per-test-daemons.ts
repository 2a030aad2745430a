// Daemons (and other cleanups) that end with each test; kept apart from
// daemon.ts, which the benchmark scripts import outside the test runner.
import { afterEach } from "bun:test";
import { startDaemon, type DaemonHandle, type StartOptions } from "./daemon.ts";

/**
 * Per-test cleanups, run after each test newest first (registers the
 * afterEach hook), and `daemon()`, which starts a daemon stopped after the
 * test (resumed first, in case the test paused it with SIGSTOP).
 */
export function perTestDaemons(): { cleanup: Array<() => unknown>; daemon(opts?: StartOptions): Promise<DaemonHandle> } {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  return {
    cleanup,
    async daemon(opts = {}) {
      const d = await startDaemon(opts);
      cleanup.push(async () => {
        d.proc.kill("SIGCONT");
        await d.stop();
      });
      return d;
    },
  };
}
