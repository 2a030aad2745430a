// C2SP tlog-checkpoint: the note text "<origin>\n<size>\n<base64 root>\n"
// (plus optional extension lines), signed by the log's key named after the
// origin.
import { HASH_SIZE } from "./merkle.ts";
import { decodeBase64Strict, encodeBase64, isValidKeyName, NoteError, openNote, signNote, type NoteSigner, type NoteVerifier, type OpenedNote } from "./note.ts";

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array /* 32 */;
  extensions: string[];
}

export class CheckpointError extends NoteError {}

export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin === "" || c.origin.includes("\n")) throw new CheckpointError("a checkpoint origin is one non-empty line");
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new CheckpointError(`a checkpoint size is a whole number, got ${c.size}`);
  if (c.root.length !== HASH_SIZE) throw new CheckpointError(`a checkpoint root is ${HASH_SIZE} bytes, got ${c.root.length}`);
  for (const e of c.extensions) if (e === "" || e.includes("\n")) throw new CheckpointError("checkpoint extension lines are non-empty single lines");
  return [c.origin, String(c.size), encodeBase64(c.root), ...c.extensions].map((l) => `${l}\n`).join("");
}

/** Parses a checkpoint's note text (without signatures); throws CheckpointError naming the bad line. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith("\n")) throw new CheckpointError("checkpoint text must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw new CheckpointError(`a checkpoint has at least 3 lines (origin, size, root), this one has ${lines.length}`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === "") throw new CheckpointError("checkpoint origin (line 1) is empty");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new CheckpointError(`checkpoint size (line 2) must be a decimal number without leading zeros, got ${JSON.stringify(sizeText.slice(0, 40))}`);
  }
  const root = decodeBase64Strict(rootText);
  if (root === null || root.length !== HASH_SIZE) throw new CheckpointError(`checkpoint root (line 3) must be the base64 of ${HASH_SIZE} bytes`);
  if (extensions.some((e) => e === "")) throw new CheckpointError("checkpoint extension lines must not be empty");
  return { origin, size: Number(sizeText), root, extensions };
}

/** Signs a checkpoint; the signer's key name should be the origin. */
export function signCheckpoint(c: Checkpoint, signer: NoteSigner): string {
  if (!isValidKeyName(c.origin)) throw new CheckpointError(`log origin ${JSON.stringify(c.origin)} cannot be a note key name: no spaces or "+"`);
  return signNote(formatCheckpoint(c), [signer]);
}

export interface OpenedCheckpoint {
  checkpoint: Checkpoint;
  note: OpenedNote;
}

/** Verifies a checkpoint note against `verifiers` (at least one must sign it) and parses its text. */
export function openCheckpoint(note: string, verifiers: readonly NoteVerifier[]): OpenedCheckpoint {
  const opened = openNote(note, verifiers);
  return { checkpoint: parseCheckpoint(opened.text), note: opened };
}

/** The note text of a signed checkpoint note (everything before the blank line), unverified. */
export function checkpointTextOf(note: string): string {
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new CheckpointError("not a signed checkpoint: no blank line before the signatures");
  return note.slice(0, split + 1);
}
