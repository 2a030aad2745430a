// The main thread's part of the transparency log: what the writer thread
// found at start goes to the log; each checkpoint it commits is published as
// a file beside the public key and handed to the anchors, whose cosignatures
// go back to the writer thread to be stored. Nothing here can delay ingest.
import { Database } from "bun:sqlite";
import { TreeStore } from "../store/tree-store.ts";
import type { AnchorProofs } from "./anchors/anchor.ts";
import { createAnchor } from "./anchors/create.ts";
import { AnchorRunner } from "./anchors/runner.ts";
import { CheckpointFiles } from "./checkpoint-files.ts";
import type { DaemonConfig } from "./config.ts";
import type { Logger } from "./log.ts";
import type { WriterClient } from "./writer/client.ts";
import type { StatusFileLog } from "../status/status-file.ts";

/** How long a stopping daemon waits for its anchors to take the final checkpoint. */
export const ANCHOR_DRAIN_MS = 3000;

/** Consistency proofs from the database, read on a read-only connection of the daemon's own. */
class ProofReader {
  private db: Database | null = null;

  constructor(private readonly path: string) {}

  proofsFor(size: number): AnchorProofs {
    return {
      consistency: (fromSize) => {
        this.db ??= new Database(this.path, { readonly: true });
        // A fresh store per proof: its tile cache is good for one snapshot only.
        const tree = TreeStore.open(this.db);
        if (tree === null) throw new Error("the database has no log tables");
        return tree.snapshot(() => tree.consistencyProof(fromSize, size));
      },
    };
  }

  close(): void {
    this.db?.close();
  }
}

export class LogPublication {
  private readonly proofs: ProofReader;
  /** Told when what statusLog() returns changed: a checkpoint, an anchor's success or failure. */
  onStatusChange: (() => void) | null = null;

  private constructor(
    private readonly files: CheckpointFiles,
    readonly anchors: AnchorRunner,
    proofs: ProofReader,
    private readonly writer: WriterClient,
    private readonly intervalSeconds: number,
  ) {
    this.proofs = proofs;
  }

  /** The status file's `log` member: sizes, the newest checkpoint, each anchor's state. No key, no note. */
  statusLog(): StatusFileLog {
    const tlog = this.writer.tlog!;
    const latest = this.writer.latestCheckpoint ?? tlog.latest;
    // Every receipt committed since start became a leaf in its transaction.
    const treeSize = Math.max(tlog.size + this.writer.stats.receipts, latest?.size ?? 0);
    return {
      origin: tlog.origin,
      tree_size: treeSize,
      checkpoint_size: latest?.size ?? null,
      checkpoint_at: latest?.createdAt ?? null,
      checkpoint_interval: this.intervalSeconds,
      anchors: this.anchors.states().map((a) => ({
        name: a.name, published: a.published, failures: a.failures, failed_attempts: a.failedAttempts, last_error: a.lastError,
        last_published_size: a.lastPublishedSize, last_published_at: a.lastPublishedAt,
      })),
    };
  }

  static start(config: DaemonConfig, writer: WriterClient, log: Logger): LogPublication | null {
    const tlog = writer.tlog;
    if (tlog === null) return null;
    if (tlog.backfilled !== null) {
      log.info("tlog_backfilled", {
        leaves: tlog.backfilled.leaves, from_size: tlog.backfilled.fromSize, ms: Math.round(tlog.backfilled.ms),
        note: "receipts committed before the transparency log got their leaves, in commit order",
      });
    }
    for (const problem of tlog.problems) log.error("tlog_inconsistent", { problem, db: config.db, note: "run agent-receipts verify" });
    const files = new CheckpointFiles(config.public_key, log);
    files.publishVkey(tlog.vkey);
    if (tlog.latest !== null) files.publish(tlog.latest);
    const proofs = new ProofReader(config.db);
    let publication: LogPublication | null = null;
    const anchors = new AnchorRunner(config.anchors.map(createAnchor), {
      log,
      onChange: () => publication?.onStatusChange?.(),
      proofsFor: (size) => proofs.proofsFor(size),
      onCosignatures: (size, anchor, lines) => {
        files.addCosignatures(size, lines);
        writer.storeCosignatures(size, anchor, lines);
      },
    });
    writer.onCheckpoint = (c) => {
      files.publish(c);
      anchors.submit(c);
      publication?.onStatusChange?.();
    };
    publication = new LogPublication(files, anchors, proofs, writer, config.checkpoint_interval);
    return publication;
  }

  get checkpointPath(): string {
    return this.files.checkpointPath;
  }

  get vkeyPath(): string {
    return this.files.vkeyPath;
  }

  /** Before the database closes: the anchors' last round, bounded. */
  async drainAnchors(timeoutMs = ANCHOR_DRAIN_MS): Promise<void> {
    await this.anchors.drain(timeoutMs);
  }

  /** After the database closed: the files written, the anchors stopped; returns what the stop line reports. */
  async stop(log: Logger): Promise<{ anchor_failures: number; anchors_unpublished: number }> {
    await this.files.flush();
    for (const u of this.anchors.unpublished()) {
      log.warn("anchor_not_published", { anchor: u.anchor, size: u.size, note: "the next checkpoint after a restart covers it" });
    }
    const unpublished = this.anchors.unpublished().length;
    this.anchors.stop();
    this.proofs.close();
    const failures = Object.values(this.anchors.stats()).reduce((n, s) => n + s.failures, 0);
    return { anchor_failures: failures, anchors_unpublished: unpublished };
  }
}
