// When the writer thread signs a checkpoint: once `every` receipts are not
// covered (inside the transaction that commits them, so it costs no extra
// fsync), `intervalMs` after the first uncovered receipt (its own small
// transaction), and at shutdown after the terminators. Signed with the
// daemon's key as an Ed25519 note signature whose key name is the origin.
import type { TlogWriter } from "../../store/tlog-writer.ts";
import { signCheckpoint } from "../../tlog/checkpoint.ts";
import type { NoteSigner } from "../../tlog/note.ts";

export interface CheckpointPolicy {
  every: number;
  intervalMs: number;
}

export class Checkpointer {
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly tlog: TlogWriter,
    private readonly signer: NoteSigner,
    private readonly policy: CheckpointPolicy,
    /** A timer-driven checkpoint failed (the next commit or timer tries again). */
    private readonly onError: (message: string) => void,
    private readonly clock: () => Date = () => new Date(),
  ) {
    tlog.beforeCommit = () => {
      if (this.uncovered() >= policy.every) this.sign();
    };
  }

  get origin(): string {
    return this.signer.name;
  }

  /** Receipts in the tree that no checkpoint covers yet. */
  uncovered(): number {
    return this.tlog.size - (this.tlog.latestCheckpoint?.size ?? 0);
  }

  /** Inside a transaction: signs and stores the checkpoint of the tree as it now is. */
  private sign(): void {
    const size = this.tlog.size;
    const root = this.tlog.hashes.root(size);
    const note = signCheckpoint({ origin: this.signer.name, size, root, extensions: [] }, this.signer);
    this.tlog.addCheckpoint(note, root, this.clock());
  }

  /** After each commit: start the interval once receipts are left uncovered. */
  afterCommit(): void {
    if (this.uncovered() === 0) {
      this.clearTimer();
      return;
    }
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.issueNow();
      } catch (err) {
        this.onError((err as Error).message);
      }
    }, this.policy.intervalMs);
  }

  /** Signs a checkpoint now, in its own transaction, when receipts are uncovered (start, interval, shutdown). */
  issueNow(): boolean {
    this.clearTimer();
    if (this.uncovered() === 0) return false;
    this.tlog.transact(() => this.sign());
    return true;
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  stop(): void {
    this.clearTimer();
  }
}
