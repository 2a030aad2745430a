// Opens the transparency log of a database for a reader command, or says in
// one line why it has none.
import { UserFacingError } from "../errors.ts";
import type { ReceiptReader } from "../query/reader.ts";
import { withCosignatures } from "../store/tlog-tables.ts";
import { TreeStore } from "../store/tree-store.ts";

export function openLog(reader: ReceiptReader, db: string): TreeStore {
  const tree = TreeStore.open(reader.db);
  if (tree === null) {
    throw new UserFacingError(
      `database ${db} has no transparency log yet (written by a version without it). Start the daemon of this version once: it gives every receipt its leaf and signs a checkpoint.`,
    );
  }
  return tree;
}

/** The newest stored checkpoint note with the cosignature lines stored beside it. */
export function cosignedNote(tree: TreeStore, size: number, note: string): string {
  return withCosignatures(note, tree.cosignatures(size));
}
