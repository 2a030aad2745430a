// verify --file receipts.jsonl --proofs log.proofs --checkpoint log.checkpoint:
// every receipt of an exported folder proven to be in the log, line by line,
// against the newest checkpoint of the file that the public key signed (and
// the witnesses cosigned, with --witness).
import type { KeyObject } from "node:crypto";
import { UserFacingError } from "../errors.ts";
import type { ProofLine } from "../log-cli/export-proofs.ts";
import { rawPublicKey } from "../receipt/keys.ts";
import { parseCheckpoint, type Checkpoint } from "../tlog/checkpoint.ts";
import { receiptLeaf } from "../tlog/leaf.ts";
import { inclusionProblem } from "../tlog/merkle.ts";
import { decodeBase64Strict, ed25519NoteVerifier, encodeBase64, openNote } from "../tlog/note.ts";
import { checkReceipt } from "./check-receipt.ts";
import type { ExternalNote } from "./log-check.ts";
import { jsonLines } from "./sources.ts";
import { witnessedBy, type WitnessPolicy } from "./witness-policy.ts";

export interface FileProofs {
  origin: string;
  size: number;
  root: string;
  witnesses: string[];
  quorum: number;
  receipts: number;
  proven: number;
  /** Receipts with no proof because they came after the checkpoint. */
  after: number;
  problems: string[];
  valid: boolean;
}

const MAX_PROBLEMS = 20;

/** The largest checkpoint of the notes that the public key signed. */
function newestSigned(notes: readonly ExternalNote[], key: Uint8Array): { c: Checkpoint; note: string } {
  let best: { c: Checkpoint; note: string } | null = null;
  const reasons: string[] = [];
  for (const n of notes) {
    const origin = n.note.slice(0, Math.max(0, n.note.indexOf("\n")));
    try {
      const c = parseCheckpoint(openNote(n.note, [ed25519NoteVerifier(origin, key)]).text);
      if (best === null || c.size > best.c.size) best = { c, note: n.note };
    } catch (err) {
      reasons.push((err as Error).message);
    }
  }
  if (best === null) throw new UserFacingError(`--checkpoint holds no checkpoint signed by this public key (${reasons[0] ?? "no note"}); pass the --public-key that signed the receipts`);
  return best;
}

export async function checkFileProofs(file: string, proofsFile: string, notes: readonly ExternalNote[], publicKey: KeyObject, policy: WitnessPolicy | null): Promise<FileProofs> {
  const { c, note } = newestSigned(notes, rawPublicKey(publicKey));
  const r: FileProofs = {
    origin: c.origin, size: c.size, root: encodeBase64(c.root), witnesses: policy === null ? [] : witnessedBy(policy, note), quorum: policy?.quorum ?? 0,
    receipts: 0, proven: 0, after: 0, problems: [], valid: false,
  };
  const problem = (p: string) => {
    if (r.problems.length < MAX_PROBLEMS) r.problems.push(p);
  };
  if (policy !== null && r.witnesses.length < policy.quorum) problem(`the checkpoint carries ${r.witnesses.length} of the ${policy.quorum} witness cosignature(s) asked for`);
  const proofs = jsonLines(proofsFile)[Symbol.asyncIterator]();
  let line = 0;
  for await (const json of jsonLines(file)) {
    line++;
    r.receipts++;
    const next = await proofs.next();
    if (next.done === true) {
      problem(`${proofsFile} ends before line ${line} of ${file}`);
      break;
    }
    let p: ProofLine;
    try {
      p = JSON.parse(next.value) as ProofLine;
    } catch {
      problem(`line ${line} of ${proofsFile} is not JSON`);
      continue;
    }
    const receipt = checkReceipt(json, publicKey);
    if (p.id !== receipt.id) {
      problem(`line ${line}: the proof is for ${JSON.stringify(p.id)}, the receipt is ${JSON.stringify(receipt.id)}`);
      continue;
    }
    if (p.proof === null) {
      if (typeof p.index === "number" && p.index < c.size) problem(`line ${line}: receipt ${receipt.id} is leaf ${p.index}, which the checkpoint covers, but has no proof`);
      else r.after++;
      continue;
    }
    const hashes = Array.isArray(p.proof) ? p.proof.map((h) => (typeof h === "string" ? decodeBase64Strict(h) : null)) : [null];
    if (typeof p.index !== "number" || hashes.some((h) => h === null)) {
      problem(`line ${line}: malformed proof for ${receipt.id}`);
      continue;
    }
    const wrong = receipt.hash === "" ? "the receipt cannot be hashed" : inclusionProblem(p.index, c.size, receiptLeaf(receipt.hash), hashes as Uint8Array[], c.root);
    if (wrong !== null) problem(`line ${line}: receipt ${receipt.id} is not leaf ${p.index} of the checkpoint: ${wrong}`);
    else r.proven++;
  }
  if (!(await proofs.next()).done) problem(`${proofsFile} has more lines than ${file}`);
  r.valid = r.problems.length === 0;
  return r;
}

export function formatFileProofs(r: FileProofs): string {
  const lines: string[] = [];
  const cosigned = r.quorum > 0 ? `, cosigned by ${r.witnesses.join(", ") || "no witness"} (quorum ${r.quorum})` : "";
  lines.push(`log: ${r.proven} of ${r.receipts} receipt(s) proven to be in checkpoint ${r.origin} (size ${r.size}, root ${r.root})${cosigned}; ${r.after} came after it`);
  for (const p of r.problems) lines.push(`  ${p}`);
  lines.push(r.valid ? "log: every receipt the checkpoint covers is proven to be in the log" : "BROKEN  log: proofs that do not hold (see above) (exit 1)");
  return `${lines.join("\n")}\n`;
}

/** `log_proofs` of verify --json with --proofs: snake_case, fields only added. */
export function fileProofsJson(r: FileProofs): Record<string, unknown> {
  return {
    valid: r.valid, origin: r.origin, size: r.size, root: r.root, witnesses: r.witnesses, quorum: r.quorum,
    receipts: r.receipts, proven: r.proven, after_checkpoint: r.after, problems: r.problems,
  };
}
