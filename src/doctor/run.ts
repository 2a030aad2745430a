// `agent-receipts doctor`: every check, in the order a problem is usually
// found (is it running, can agents reach it, keys, database, chain, host,
// hook), one line each.
import type { ReaderFlags } from "../status/targets.ts";
import { chainCheck } from "./chain-check.ts";
import type { CheckResult, Level } from "./check.ts";
import { clockCheck } from "./clock-check.ts";
import { doctorContext, requireFlaggedFiles } from "./context.ts";
import { daemonCheck, socketAccessCheck, socketPathCheck } from "./daemon-checks.ts";
import { databaseCheck, diskCheck } from "./database-checks.ts";
import { hookCheck } from "./hook-check.ts";
import { keyChecks } from "./key-checks.ts";
import { roundTripCheck } from "./round-trip.ts";
import { tlogCheck } from "./tlog-check.ts";

export interface DoctorOptions extends ReaderFlags {
  full: boolean;
  roundTrip: boolean;
}

/** The `--json` shape: a stable interface (README), snake_case, fields only added. */
export interface DoctorJson {
  ok: boolean;
  counts: Record<Level, number>;
  checks: CheckResult[];
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorJson> {
  const ctx = doctorContext(options);
  requireFlaggedFiles(ctx);
  const checks: CheckResult[] = [
    daemonCheck(ctx),
    socketPathCheck(ctx),
    await socketAccessCheck(ctx),
    ...keyChecks(ctx),
    databaseCheck(ctx),
    await chainCheck(ctx, options.full),
    tlogCheck(ctx),
    diskCheck(ctx),
    clockCheck(ctx),
    hookCheck(ctx),
  ];
  if (options.roundTrip) checks.push(await roundTripCheck(ctx));
  const counts: Record<Level, number> = { ok: 0, warn: 0, fail: 0 };
  for (const c of checks) counts[c.level]++;
  return { ok: counts.fail === 0, counts, checks };
}
