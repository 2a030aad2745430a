// --witness VKEY... --quorum K: which witnesses' cosignatures count, and how
// many a checkpoint needs.
import { UserFacingError } from "../errors.ts";
import { parseCosignerKey, verifyCosignature, type CosignerKey } from "../tlog/cosignature.ts";
import { formatSignatureLine, parseNote } from "../tlog/note.ts";

export interface WitnessPolicy {
  keys: CosignerKey[];
  quorum: number;
}

/** Default quorum: every witness given. */
export function witnessPolicy(vkeys: readonly string[], quorum: number | undefined): WitnessPolicy | null {
  if (vkeys.length === 0) {
    if (quorum !== undefined) throw new UserFacingError("--quorum needs --witness VKEY (the witnesses whose cosignatures count)");
    return null;
  }
  const keys = vkeys.map((v) => {
    try {
      return parseCosignerKey(v);
    } catch (err) {
      throw new UserFacingError(`--witness ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}: ${(err as Error).message}. Give the witness's vkey (agent-receipts witness keys show prints it).`);
    }
  });
  const k = quorum ?? keys.length;
  if (!Number.isSafeInteger(k) || k < 1 || k > keys.length) {
    throw new UserFacingError(`--quorum must be a whole number from 1 to the number of --witness keys (${keys.length}), not ${quorum}`);
  }
  return { keys, quorum: k };
}

/** Names of the policy's witnesses with a cosignature on `note` that verifies. */
export function witnessedBy(policy: WitnessPolicy, note: string): string[] {
  let parsed;
  try {
    parsed = parseNote(note);
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const key of policy.keys) {
    const ok = parsed.signatures.some((s) => verifyCosignature(key, parsed.text, formatSignatureLine(s.name, s.keyId, s.signature)) !== null);
    if (ok && !names.includes(key.name)) names.push(key.name);
  }
  return names;
}
