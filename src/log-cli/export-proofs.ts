// `export --with-key DIR` adds the log's evidence to the folder, so it is
// self-verifying: log.checkpoint (the newest checkpoint, with witness
// cosignatures), log.vkey, and log.proofs — one JSON line per exported
// receipt, in receipts.jsonl's order: its id, its leaf index and its
// inclusion proof against that checkpoint (proof null for a receipt that came
// after it). `verify --file receipts.jsonl --proofs log.proofs --checkpoint
// log.checkpoint` checks them all.
import { closeSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { KeyObject } from "node:crypto";
import type { ReceiptFilter } from "../query/filter.ts";
import type { ChainSlice, ReceiptReader } from "../query/reader.ts";
import { rawPublicKey } from "../receipt/keys.ts";
import { TreeStore } from "../store/tree-store.ts";
import { ed25519VerifierKey, encodeBase64 } from "../tlog/note.ts";
import { cosignedNote } from "./open-log.ts";

export const BUNDLE_CHECKPOINT = "log.checkpoint";
export const BUNDLE_VKEY = "log.vkey";
export const BUNDLE_PROOFS = "log.proofs";

/** One line of log.proofs. */
export interface ProofLine {
  id: string;
  /** The receipt's leaf in the log; null when the database's tree does not hold it. */
  index: number | null;
  /** Sibling hashes (base64), leaf first; null when the receipt came after the checkpoint. */
  proof: string[] | null;
}

/** What the manifest says of the log files. */
export interface BundleLog {
  checkpoint_file: string;
  vkey_file: string;
  proofs_file: string;
  origin: string;
  checkpoint_size: number;
  /** Exported receipts with an inclusion proof against the checkpoint. */
  proven: number;
  /** Exported receipts committed after the checkpoint (no proof yet). */
  after_checkpoint: number;
}

function idOf(json: string): string {
  try {
    const id = (JSON.parse(json) as { id?: unknown }).id;
    return typeof id === "string" ? id : "";
  } catch {
    return "";
  }
}

/** Writes the log files into `dir`; null (nothing written) when the database has no log or no checkpoint yet. */
export function writeBundleLog(
  dir: string, reader: ReceiptReader, plan: readonly ChainSlice[], filter: ReceiptFilter, publicKey: KeyObject,
): BundleLog | null {
  const tree = TreeStore.open(reader.db);
  const latest = tree?.latestCheckpoint() ?? null;
  if (tree === null || latest === null) return null;
  const origin = latest.note.slice(0, latest.note.indexOf("\n"));
  writeFileSync(join(dir, BUNDLE_CHECKPOINT), cosignedNote(tree, latest.size, latest.note), { mode: 0o644 });
  writeFileSync(join(dir, BUNDLE_VKEY), `${ed25519VerifierKey(origin, rawPublicKey(publicKey))}\n`, { mode: 0o644 });
  const locate = reader.db.query<{ rowid: number; receipt_hash: unknown }, [string, number]>(
    "SELECT rowid AS rowid, receipt_hash FROM receipts WHERE chain_id = ? AND sequence = ?",
  );
  const fd = openSync(join(dir, BUNDLE_PROOFS), "w", 0o644);
  let proven = 0;
  let after = 0;
  try {
    for (const s of plan) {
      for (const r of reader.slice(s, filter)) {
        const row = locate.get(s.chain.chainId, r.sequence);
        const index = row === null ? null : tree.leafOf(row.rowid, row.receipt_hash);
        let proof: string[] | null = null;
        if (index !== null && index < latest.size) {
          proof = tree.inclusionProof(index, latest.size).map(encodeBase64);
          proven++;
        } else {
          after++;
        }
        const line: ProofLine = { id: idOf(r.json), index, proof };
        writeSync(fd, `${JSON.stringify(line)}\n`);
      }
    }
  } finally {
    closeSync(fd);
  }
  return {
    checkpoint_file: BUNDLE_CHECKPOINT, vkey_file: BUNDLE_VKEY, proofs_file: BUNDLE_PROOFS, origin,
    checkpoint_size: latest.size, proven, after_checkpoint: after,
  };
}
