// `prove`: the C2SP tlog-proof of one receipt against the newest checkpoint,
// from stored tiles, checked before it is handed out.
import { UserFacingError, EXIT_FAILURE } from "../errors.ts";
import type { StoredReceipt } from "../query/record.ts";
import type { TreeStore } from "../store/tree-store.ts";
import { receiptLeaf } from "../tlog/leaf.ts";
import { equalHashes, inclusionProblem } from "../tlog/merkle.ts";
import { formatTlogProof } from "../tlog/proof-file.ts";
import { cosignedNote } from "./open-log.ts";

export interface BuiltProof {
  text: string;
  index: number;
  size: number;
  origin: string;
  cosignatures: number;
}

export function buildProof(tree: TreeStore, receipt: StoredReceipt, receiptHash: unknown, db: string): BuiltProof {
  return tree.snapshot(() => {
    const index = tree.leafOf(receipt.rowid, receiptHash);
    const what = `receipt ${receipt.id} (chain ${receipt.chainId}, sequence ${receipt.sequence})`;
    if (index === null) {
      throw new UserFacingError(
        `${what} is not in the log's tree of ${db}: it was committed without the log, or its row or the tree was altered. Run agent-receipts verify.`,
        EXIT_FAILURE,
      );
    }
    const latest = tree.latestCheckpoint();
    if (latest === null || latest.size <= index) {
      throw new UserFacingError(
        `${what} is leaf ${index}, after the newest checkpoint (${latest === null ? "none yet" : `size ${latest.size}`}): ` +
          "the daemon signs the next one within checkpoint_interval (default 10 s) while it runs; run prove again then.",
        EXIT_FAILURE,
      );
    }
    const proof = tree.inclusionProof(index, latest.size);
    // Never hand out a proof the tables cannot back: the stored root must be the checkpoint's and the proof must lead to it.
    const problem = !equalHashes(tree.root(latest.size), latest.root)
      ? "the stored tree's root differs from the checkpoint's"
      : inclusionProblem(index, latest.size, receiptLeaf(receiptHash), proof, latest.root);
    if (problem !== null) {
      throw new UserFacingError(`cannot prove ${what}: ${problem}. The log tables of ${db} are damaged or altered: run agent-receipts verify.`, EXIT_FAILURE);
    }
    const checkpoint = cosignedNote(tree, latest.size, latest.note);
    return {
      text: formatTlogProof({ index, proof, checkpoint }),
      index,
      size: latest.size,
      origin: latest.note.slice(0, latest.note.indexOf("\n")),
      cosignatures: tree.cosignatures(latest.size).length,
    };
  });
}
