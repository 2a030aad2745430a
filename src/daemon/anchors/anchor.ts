// Where a new checkpoint is also written, so that it leaves the database:
// a file, the system log, a witness. The anchor runner calls publish() off
// the ingest path, retries failures with backoff and logs and counts them.

export interface AnchorCheckpoint {
  /** The signed checkpoint note. */
  note: string;
  size: number;
  root: Uint8Array;
}

export interface AnchorProofs {
  /** RFC 6962 consistency proof from an earlier tree size to this checkpoint's size. */
  consistency(fromSize: number): Uint8Array[];
}

export interface Anchor {
  readonly name: string;
  /** Resolves once the checkpoint is durably handed over; throws to be retried. Cosignature lines returned are stored beside the checkpoint. */
  publish(checkpoint: AnchorCheckpoint, proofs: AnchorProofs): Promise<{ cosignatures?: string[] }>;
}
