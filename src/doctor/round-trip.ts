// --round-trip: one real probe event (channel "doctor") through the emitter
// library to the socket this shell's agents use, confirmed by the daemon's
// close (committed), then read back from the database. Its receipt is dated by
// the daemon, so it also measures the clocks' difference.
import { randomUUID } from "node:crypto";
import { Emitter } from "../emitter/emitter.ts";
import { ReadOnlyDatabase } from "../store/open-readonly.ts";
import { fail, ok, warn, type CheckResult } from "./check.ts";
import type { DoctorContext } from "./context.ts";

const CONFIRM_TIMEOUT_MS = 5_000;
const READ_TIMEOUT_MS = 5_000;
/** Beyond this, the receipt's date is outside the window of send and read-back: the clocks differ. */
const CLOCK_SLACK_MS = 1_000;

function newestRowid(reader: ReadOnlyDatabase): number {
  return reader.db.query<{ r: number | null }, []>("SELECT MAX(rowid) AS r FROM receipts").get()?.r ?? 0;
}

/** The probe's receipt date, once it is readable (only rows added since `after` are looked at). */
function findProbe(reader: ReadOnlyDatabase, after: number, probe: string): string | null {
  const rows = reader.db
    .query<{ timestamp: string; receipt_json: string }, [number]>("SELECT timestamp, receipt_json FROM receipts WHERE rowid > ? ORDER BY rowid")
    .all(after);
  return rows.find((r) => r.receipt_json.includes(probe))?.timestamp ?? null;
}

export async function roundTripCheck(ctx: DoctorContext): Promise<CheckResult> {
  const socket = ctx.shell.path;
  let reader: ReadOnlyDatabase | null = null;
  try {
    reader = new ReadOnlyDatabase(ctx.db.path);
  } catch {
    // Delivery is still worth checking; reading back is not possible for this user.
  }
  try {
    const after = reader === null ? 0 : newestRowid(reader);
    const probe = `doctor-${randomUUID()}`;
    const emitter = new Emitter({ channel: "doctor", socketPath: socket, strict: true, connectTimeoutMs: 1000, writeTimeoutMs: 1000 });
    const start = performance.now();
    const sentAt = Date.now();
    try {
      await emitter.emit({ tool: { name: "round_trip" }, decision: "allowed", input: { probe }, correlationId: probe });
    } catch (err) {
      await emitter.close();
      return fail("round_trip", `the probe event was not delivered to ${socket}: ${(err as Error).message}`, "fix the socket lines above first");
    }
    const confirmed = await emitter.close({ confirm: true, timeoutMs: CONFIRM_TIMEOUT_MS });
    const committedMs = performance.now() - start;
    if (!confirmed) {
      return fail("round_trip", `the daemon at ${socket} took the probe event but did not confirm committing it within ${CONFIRM_TIMEOUT_MS} ms`, "see the daemon's log (commit_failed, backpressure)");
    }
    if (reader === null) {
      return warn("round_trip", `probe event committed in ${committedMs.toFixed(1)} ms, but this user cannot read ${ctx.db.path} to see its receipt`, "see the database line");
    }
    let stamped: string | null = null;
    while ((stamped = findProbe(reader, after, probe)) === null && performance.now() - start < committedMs + READ_TIMEOUT_MS) await Bun.sleep(5);
    const readMs = performance.now() - start;
    const readAt = Date.now();
    if (stamped === null) {
      return fail("round_trip", `the daemon confirmed the probe event, but its receipt is not in ${ctx.db.path} after ${readMs.toFixed(0)} ms: the daemon writes another database`,
        `pass --db with the daemon's database${ctx.daemon === null ? "" : ` (${ctx.daemon.db})`}`);
    }
    const dated = Date.parse(stamped);
    const text = `probe event (channel doctor, correlation id ${probe}) committed in ${committedMs.toFixed(1)} ms, readable in ${readMs.toFixed(1)} ms`;
    if (dated < sentAt - CLOCK_SLACK_MS || dated > readAt + CLOCK_SLACK_MS) {
      const off = dated < sentAt ? `${((sentAt - dated) / 1000).toFixed(1)} s behind` : `${((dated - readAt) / 1000).toFixed(1)} s ahead of`;
      return warn("round_trip", `${text}; its receipt is dated ${stamped}: the daemon's clock is about ${off} this machine's`, "synchronise both clocks (timedatectl set-ntp true / chrony)");
    }
    return ok("round_trip", `${text}; dated within the round trip (clocks agree)`);
  } finally {
    reader?.close();
  }
}
