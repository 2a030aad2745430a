// The daemon dates every receipt with its own clock. Without a probe event,
// its status file's heartbeat (rewritten every HEARTBEAT_MS) bounds the
// difference to that interval: a heartbeat from the future means the daemon's
// clock is ahead; one much older than the interval, that it is behind or the
// daemon is stalled. The round trip (round-trip.ts) measures it exactly.
import { HEARTBEAT_MS } from "../status/status-file.ts";
import { age } from "../status/format.ts";
import { ok, warn, type CheckResult } from "./check.ts";
import type { DoctorContext } from "./context.ts";

/** Allowed for scheduling and file-system latency besides the heartbeat interval. */
const SLACK_MS = 2_000;
/** A stalled heartbeat is only suspicious after several missed beats. */
const STALE_MS = 3 * HEARTBEAT_MS;

export function clockCheck(ctx: DoctorContext, now = new Date()): CheckResult {
  const d = ctx.daemon;
  if (d === null) return warn("clock", "no running daemon with a readable status file: clocks not compared");
  const behindBy = now.getTime() - Date.parse(d.updated_at);
  if (behindBy < -SLACK_MS) {
    return warn("clock", `the daemon's clock is about ${age(-behindBy / 1000)} ahead of this machine's (its status file is dated ${d.updated_at}): its receipts are dated in the future`,
      "synchronise both clocks (timedatectl set-ntp true / chrony)");
  }
  if (behindBy > STALE_MS + SLACK_MS) {
    return warn("clock", `the daemon last wrote its status file ${age(behindBy / 1000)} ago (it does so every ${HEARTBEAT_MS / 1000} s): it is stalled, or its clock is behind`,
      "see the daemon's log; run doctor --round-trip to measure the difference");
  }
  return ok("clock", `the daemon's heartbeat is ${age(Math.max(0, behindBy) / 1000)} old (it beats every ${HEARTBEAT_MS / 1000} s): no sign of clock difference; --round-trip measures it exactly`);
}
