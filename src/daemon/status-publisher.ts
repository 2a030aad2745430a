// Keeps the daemon's status file (src/status/status-file.ts) beside its
// socket: written at start, rewritten every heartbeat, removed at a clean
// stop. Readable by whoever may use the socket: mode 0640, with the socket's
// group. A failure is logged once and never stops the daemon: the file is a
// convenience for readers, not part of the record.
import { closeSync, constants, fchmodSync, fchownSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { HEARTBEAT_MS, parseStatusFile, type DaemonStatusFile } from "../status/status-file.ts";
import type { Logger } from "./log.ts";

const MODE = 0o640;
/** Between rewrites asked for by refresh() (a checkpoint, an anchor's success or failure): at most one a second. */
const REFRESH_MIN_MS = 1000;

/** Replaces `path` by a new file in one rename, so a reader never sees half a file; never follows a symlink. */
function writeAtomically(path: string, text: string, gid: number | undefined): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  let fd: number;
  try {
    fd = openSync(tmp, flags, MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    unlinkSync(tmp); // left by a crash of a process with our pid
    fd = openSync(tmp, flags, MODE);
  }
  try {
    writeSync(fd, text);
    fchmodSync(fd, MODE);
    if (gid !== undefined) fchownSync(fd, -1, gid);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export class StatusPublisher {
  private timer: ReturnType<typeof setInterval> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private lastWriteAt = 0;
  private stopped = false;
  private failing = false;

  constructor(
    readonly path: string,
    private readonly content: Omit<DaemonStatusFile, "updated_at">,
    /** The socket's group (socket_group), or undefined for the daemon's own. */
    private readonly gid: number | undefined,
    private readonly log: Logger,
    /** Members that change while the daemon runs (the transparency log's), read at each write. */
    private readonly live: () => Partial<DaemonStatusFile> = () => ({}),
  ) {}

  /** Something shown in the file changed: rewrite it soon (at most once a second), not only at the next heartbeat. */
  refresh(): void {
    if (this.stopped || this.timer === undefined || this.refreshTimer !== undefined) return;
    const wait = Math.max(0, this.lastWriteAt + REFRESH_MIN_MS - Date.now());
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      if (!this.stopped) this.write();
    }, wait);
    this.refreshTimer.unref();
  }

  start(): void {
    this.write();
    this.timer = setInterval(() => this.write(), HEARTBEAT_MS);
    this.timer.unref();
  }

  private write(): void {
    this.lastWriteAt = Date.now();
    let live: Partial<DaemonStatusFile> = {};
    try {
      live = this.live();
    } catch {
      // the fixed members are still worth publishing
    }
    const status: DaemonStatusFile = { ...this.content, ...live, updated_at: new Date().toISOString() };
    try {
      writeAtomically(this.path, `${JSON.stringify(status, null, 2)}\n`, this.gid);
      if (this.failing) this.log.info("status_file_recovered", { path: this.path });
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn("status_file_failed", { path: this.path, error: (err as Error).message, note: "status and doctor cannot see this daemon's details" });
      this.failing = true;
    }
  }

  /** Stops the heartbeat and removes the file, unless another daemon has replaced it since. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.refreshTimer);
    try {
      const current = parseStatusFile(readFileSync(this.path, "utf8"));
      if (typeof current !== "string" && current.pid === process.pid) unlinkSync(this.path);
    } catch {
      // already gone, or not ours to remove
    }
  }
}
