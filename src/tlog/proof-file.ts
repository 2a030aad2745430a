// C2SP tlog-proof (c2sp.org/tlog-proof@v1): an entry's index, its inclusion
// proof, and the (cosigned) checkpoint it is included in, verbatim.
import { HASH_SIZE } from "./merkle.ts";
import { decodeBase64Strict, encodeBase64, NoteError } from "./note.ts";

export const TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";

export interface TlogProof {
  extra?: Uint8Array;
  index: number;
  proof: Uint8Array[];
  /** The signed checkpoint note, with any cosignatures. */
  checkpoint: string;
}

export class ProofFormatError extends NoteError {}

export function formatTlogProof(p: TlogProof): string {
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${encodeBase64(p.extra)}`);
  lines.push(`index ${p.index}`, ...p.proof.map(encodeBase64));
  return `${lines.join("\n")}\n\n${p.checkpoint}`;
}

export function parseTlogProof(text: string): TlogProof {
  const lines = text.split("\n");
  if (lines[0] !== TLOG_PROOF_HEADER) throw new ProofFormatError(`not a tlog proof: the first line must be ${TLOG_PROOF_HEADER}`);
  let i = 1;
  let extra: Uint8Array | undefined;
  if (lines[i]?.startsWith("extra ")) {
    const decoded = decodeBase64Strict(lines[i]!.slice(6));
    if (decoded === null) throw new ProofFormatError("the extra line is not base64");
    extra = decoded;
    i++;
  }
  const m = /^index (0|[1-9][0-9]*)$/.exec(lines[i] ?? "");
  if (m === null || !Number.isSafeInteger(Number(m[1]))) throw new ProofFormatError(`line ${i + 1} must be "index N" (a decimal without leading zeros)`);
  const index = Number(m[1]);
  i++;
  const proof: Uint8Array[] = [];
  for (; i < lines.length && lines[i] !== ""; i++) {
    const h = decodeBase64Strict(lines[i]!);
    if (h === null || h.length !== HASH_SIZE) throw new ProofFormatError(`line ${i + 1} is not the base64 of a ${HASH_SIZE}-byte hash`);
    proof.push(h);
  }
  if (i >= lines.length) throw new ProofFormatError("no blank line before the checkpoint");
  const checkpoint = lines.slice(i + 1).join("\n");
  if (checkpoint === "") throw new ProofFormatError("the checkpoint is missing after the blank line");
  return { ...(extra === undefined ? {} : { extra }), index, proof, checkpoint };
}
