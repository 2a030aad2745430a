// verify --receipt R.json --proof P: one receipt proven to be in the log,
// offline, with no database: the receipt's own signature, the checkpoint's
// signature by the same key (key name = its origin), the witnesses'
// cosignatures, and the inclusion proof from the receipt's leaf to the
// checkpoint's root.
import { readFileSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import { UserFacingError } from "../errors.ts";
import { rawPublicKey } from "../receipt/keys.ts";
import { parseCheckpoint } from "../tlog/checkpoint.ts";
import { receiptLeaf } from "../tlog/leaf.ts";
import { inclusionProblem } from "../tlog/merkle.ts";
import { ed25519NoteVerifier, encodeBase64, openNote } from "../tlog/note.ts";
import { parseTlogProof, type TlogProof } from "../tlog/proof-file.ts";
import { checkReceipt } from "./check-receipt.ts";
import { witnessedBy, type WitnessPolicy } from "./witness-policy.ts";

export interface ProofCheck {
  valid: boolean;
  receiptId: string;
  index: number;
  origin: string;
  size: number;
  root: string;
  witnesses: string[];
  quorum: number;
  /** Why it is not valid. */
  problem?: string;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserFacingError(`cannot read ${what} ${path}: ${code === "ENOENT" ? "it does not exist" : (err as Error).message}`);
  }
}

/** The one receipt of a file (JSON, or JSON Lines with one line). */
function receiptText(path: string): string {
  const lines = readText(path, "receipt file").split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) throw new UserFacingError(`receipt file ${path} is empty; write the receipt into it: agent-receipts show REF --json > ${path}`);
  const whole = lines.join("\n").trim();
  if (lines.length > 1) {
    try {
      JSON.parse(whole); // a pretty-printed receipt
      return whole;
    } catch {
      throw new UserFacingError(`receipt file ${path} holds ${lines.length} lines; --receipt takes one receipt (agent-receipts show REF --json)`);
    }
  }
  return whole;
}

export function checkProof(receiptPath: string, proofPath: string, publicKey: KeyObject, policy: WitnessPolicy | null): ProofCheck {
  const json = receiptText(receiptPath);
  let proof: TlogProof;
  try {
    proof = parseTlogProof(readText(proofPath, "proof file"));
  } catch (err) {
    if (err instanceof UserFacingError) throw err;
    throw new UserFacingError(`proof file ${proofPath}: ${(err as Error).message} (write one with agent-receipts prove REF --out FILE)`);
  }
  const origin = proof.checkpoint.slice(0, Math.max(0, proof.checkpoint.indexOf("\n")));
  const result: ProofCheck = { valid: false, receiptId: "", index: proof.index, origin, size: -1, root: "", witnesses: [], quorum: policy?.quorum ?? 0 };
  const receipt = checkReceipt(json, publicKey);
  result.receiptId = receipt.id;
  if (receipt.problem !== undefined) return { ...result, problem: `the receipt does not verify under this public key (${receipt.problem}: ${receipt.detail ?? ""})` };
  let text: string;
  try {
    text = openNote(proof.checkpoint, [ed25519NoteVerifier(origin, rawPublicKey(publicKey))]).text;
  } catch (err) {
    return { ...result, problem: `the checkpoint is not signed by this public key as ${JSON.stringify(origin)}: ${(err as Error).message}` };
  }
  const c = parseCheckpoint(text);
  Object.assign(result, { size: c.size, root: encodeBase64(c.root) });
  if (policy !== null) {
    result.witnesses = witnessedBy(policy, proof.checkpoint);
    if (result.witnesses.length < policy.quorum) {
      return { ...result, problem: `the checkpoint carries ${result.witnesses.length} of the ${policy.quorum} witness cosignature(s) asked for` };
    }
  }
  const wrong = inclusionProblem(proof.index, c.size, receiptLeaf(receipt.hash), proof.proof, c.root);
  if (wrong !== null) return { ...result, problem: `the inclusion proof does not put this receipt at leaf ${proof.index} of the checkpoint: ${wrong}` };
  return { ...result, valid: true };
}

export function formatProofCheck(r: ProofCheck): string {
  const cosigned = r.quorum > 0 ? `, cosigned by ${r.witnesses.length > 0 ? r.witnesses.join(", ") : "no witness"} (quorum ${r.quorum})` : "";
  if (r.valid) {
    const lacking = r.quorum === 0 ? "note: no --witness given: the log's own key alone vouches for this checkpoint\n" : "";
    return `VALID  receipt ${r.receiptId} is leaf ${r.index} of log ${r.origin}, in its checkpoint of size ${r.size} (root ${r.root})${cosigned}\n${lacking}`;
  }
  return `INVALID  receipt ${r.receiptId || "?"} (proof for leaf ${r.index} of ${r.origin || "?"}): ${r.problem}\n`;
}
