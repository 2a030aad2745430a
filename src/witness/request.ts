// The body of a C2SP tlog-witness add-checkpoint request: "old <size>\n",
// at most 63 base64 consistency-proof hashes one per line, an empty line,
// then the signed checkpoint note.
import { decodeBase64Strict } from "../tlog/note.ts";

export const MAX_PROOF_LINES = 63;

export interface AddCheckpointRequest {
  oldSize: number;
  proof: Uint8Array[];
  /** The checkpoint note (text, blank line, signatures). */
  note: string;
}

/** A request that breaks the format: the witness answers 400 with this message. */
export class BadRequestError extends Error {}

/** Decimal with no leading zeroes ("0" alone for zero), as the C2SP formats write sizes. */
export function parseSize(text: string): number | null {
  if (!/^(0|[1-9][0-9]*)$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  const firstEnd = body.indexOf("\n");
  if (firstEnd < 0 || !body.startsWith("old ")) throw new BadRequestError('the body must start with an "old <size>" line');
  const oldSize = parseSize(body.slice(4, firstEnd));
  if (oldSize === null) throw new BadRequestError(`malformed old size line ${JSON.stringify(body.slice(0, Math.min(firstEnd, 40)))}`);
  const proof: Uint8Array[] = [];
  let pos = firstEnd + 1;
  for (;;) {
    const end = body.indexOf("\n", pos);
    if (end < 0) throw new BadRequestError("missing the empty line between the consistency proof and the checkpoint");
    const line = body.slice(pos, end);
    pos = end + 1;
    if (line === "") break;
    if (proof.length === MAX_PROOF_LINES) throw new BadRequestError(`more than ${MAX_PROOF_LINES} consistency proof lines`);
    const hash = decodeBase64Strict(line);
    if (hash === null || hash.length !== 32) throw new BadRequestError(`consistency proof line ${proof.length + 1} is not the base64 of a 32-byte hash`);
    proof.push(hash);
  }
  const note = body.slice(pos);
  if (note === "") throw new BadRequestError("missing the checkpoint after the empty line");
  return { oldSize, proof, note };
}
