// The database as this user sees it: readable (read-only, as every reader
// opens it), the receipts table of docs/protocol.md §8, and its WAL files
// readable too (else the newest receipts are invisible); and room on its disk.
import { existsSync, statfsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { octal } from "../os/dirs.ts";
import { bytes } from "../status/format.ts";
import { ReadOnlyDatabase } from "../store/open-readonly.ts";
import { fail, ok, warn, type CheckResult } from "./check.ts";
import { joinFix, readability } from "./readable.ts";
import type { DoctorContext } from "./context.ts";

const DISK_FAIL_BYTES = 100 * 1024 * 1024;
const DISK_WARN_BYTES = 1024 * 1024 * 1024;

export function databaseCheck(ctx: DoctorContext): CheckResult {
  const path = ctx.db.path;
  const reach = readability(path);
  if (reach === "missing") {
    if (ctx.daemon === null) return warn("database", `no database at ${path} (from ${ctx.db.from})`, "the daemon creates it at its first start; or pass --db PATH");
    return fail("database", `no database at ${path}, though the daemon runs`, "pass --db with the daemon's database");
  }
  // Not every user is meant to read the record (agents are not): a warning, with the way in for those who should.
  if (reach === "denied") return warn("database", `this user may not read ${path}: the record checks are skipped`, joinFix(path));
  for (const companion of [`${path}-wal`, `${path}-shm`]) {
    if (readability(companion) === "denied") {
      return fail("database", `${companion} is not readable by this user: receipts committed since the last checkpoint are invisible to it`, joinFix(companion));
    }
  }
  try {
    // Opening checks the receipts table of docs/protocol.md §8 too.
    new ReadOnlyDatabase(path).close();
  } catch (err) {
    const message = (err as Error).message;
    return fail("database", message, /not an (agent-receipts|SQLite) database/.test(message) ? "pass --db with the daemon's receipts database" : joinFix(path));
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o007) !== 0) {
    return warn("database", `${path} has mode ${octal(mode)}: every user may read the receipts`, `chmod 640 ${path} (the daemon tightens it at its next start)`);
  }
  return ok("database", `${path}: readable by this user, receipts table as expected${existsSync(`${path}-wal`) ? ", WAL readable" : ""}`);
}

export function diskCheck(ctx: DoctorContext): CheckResult {
  let dir = dirname(ctx.db.path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  let free: number;
  let total: number;
  try {
    const fs = statfsSync(dir);
    free = fs.bavail * fs.bsize;
    total = fs.blocks * fs.bsize;
  } catch (err) {
    return warn("disk_space", `cannot tell the free space of ${dir}: ${(err as Error).message}`);
  }
  const text = `${bytes(free)} free of ${bytes(total)} on the database's file system (${dir})`;
  const fix = "free space there, or move the database to a larger disk (stop the daemon, move receipts.db, set db in daemon.toml)";
  if (free < DISK_FAIL_BYTES) return fail("disk_space", `${text}: commits will soon fail`, fix);
  if (free < DISK_WARN_BYTES) return warn("disk_space", `${text}: less than ${bytes(DISK_WARN_BYTES)} left`, fix);
  return ok("disk_space", text);
}
