// Publishes the newest checkpoint and the log's verifier key as 0644 files
// beside the public key (log.checkpoint, log.vkey), each replaced in one
// rename after an fsync, so a reader never sees half a file and a power cut
// never leaves an empty one. Writes run off the ingest path, one at a time;
// a failure is logged and never stops the daemon (the database holds every
// checkpoint; these files are copies to take elsewhere).
import { constants } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "./log.ts";

const MODE = 0o644;
export const CHECKPOINT_FILE = "log.checkpoint";
export const VKEY_FILE = "log.vkey";

export function checkpointFilePath(publicKeyPath: string): string {
  return join(dirname(publicKeyPath), CHECKPOINT_FILE);
}

export function vkeyFilePath(publicKeyPath: string): string {
  return join(dirname(publicKeyPath), VKEY_FILE);
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await unlink(tmp).catch(() => {}); // left by a crash of a process with our pid
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, MODE);
  try {
    await fh.writeFile(text);
    await fh.chmod(MODE); // the daemon's umask (027) must not make it unreadable to auditors
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
}

export class CheckpointFiles {
  readonly checkpointPath: string;
  readonly vkeyPath: string;
  private chain: Promise<void> = Promise.resolve();
  private readonly pending = new Map<string, string>();
  private newest: { size: number; note: string; cosignatures: string[] } | null = null;
  private failing = false;

  constructor(publicKeyPath: string, private readonly log: Logger) {
    this.checkpointPath = checkpointFilePath(publicKeyPath);
    this.vkeyPath = vkeyFilePath(publicKeyPath);
  }

  /**
   * Queues `text` for `path`: one write at a time, and a newer text replaces
   * one still waiting, so a fast stream of checkpoints costs at most one
   * fsync in flight, not one per checkpoint.
   */
  private write(path: string, text: string): void {
    const waiting = this.pending.has(path);
    this.pending.set(path, text);
    if (waiting) return;
    this.chain = this.chain.then(async () => {
      const latest = this.pending.get(path)!;
      this.pending.delete(path);
      try {
        await writeAtomically(path, latest);
        if (this.failing) this.log.info("checkpoint_file_recovered", { path });
        this.failing = false;
      } catch (err) {
        if (!this.failing) this.log.error("checkpoint_file_failed", { path, error: (err as Error).message });
        this.failing = true;
      }
    });
  }

  publishVkey(vkey: string): void {
    this.write(this.vkeyPath, `${vkey}\n`);
  }

  /** A newer checkpoint replaces the file; an older one (late) is ignored. */
  publish(checkpoint: { size: number; note: string }): void {
    if (this.newest !== null && checkpoint.size <= this.newest.size) return;
    this.newest = { size: checkpoint.size, note: checkpoint.note, cosignatures: [] };
    this.write(this.checkpointPath, checkpoint.note);
  }

  /** Witnesses' cosignature lines join the newest checkpoint's file (a note may carry any number of signatures). */
  addCosignatures(size: number, lines: readonly string[]): void {
    const n = this.newest;
    if (n === null || n.size !== size) return;
    const fresh = lines.map((l) => (l.endsWith("\n") ? l : `${l}\n`)).filter((l) => !n.cosignatures.includes(l) && !n.note.includes(l));
    if (fresh.length === 0) return;
    n.cosignatures.push(...fresh);
    this.write(this.checkpointPath, n.note + n.cosignatures.join(""));
  }

  /** Resolves when every write so far is done. */
  async flush(): Promise<void> {
    await this.chain;
  }
}
