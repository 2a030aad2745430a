// The `file:PATH` anchor: appends each checkpoint note, then a blank line, to
// a file opened with O_APPEND and synced. In the documented setup the daemon
// may append to it but not truncate it (chattr +a, or another user's file
// written through an append-only helper), so a later compromise of the
// daemon's user cannot take back a checkpoint once it is there.
import { open } from "node:fs/promises";
import type { Anchor, AnchorCheckpoint } from "./anchor.ts";

export class FileAnchor implements Anchor {
  readonly name: string;

  constructor(readonly path: string) {
    this.name = `file:${path}`;
  }

  async publish(checkpoint: AnchorCheckpoint): Promise<{ cosignatures?: string[] }> {
    let fh;
    try {
      fh = await open(this.path, "a", 0o644);
    } catch (err) {
      throw new Error(`cannot open ${this.path} for appending: ${(err as Error).message}`);
    }
    try {
      await fh.appendFile(`${checkpoint.note}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return {};
  }
}
