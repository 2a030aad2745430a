// One checkpoint held against the receipts' tree: its signature by the log
// key (key name = its origin), then its size and root against the roots the
// receipts give. TRUNCATED when it covers more receipts than there are,
// FORKED when the receipts give another root at its size.
import { parseCheckpoint, type Checkpoint } from "../tlog/checkpoint.ts";
import { EMPTY_ROOT, equalHashes } from "../tlog/merkle.ts";
import { ed25519NoteVerifier, encodeBase64, NoteError, openNote } from "../tlog/note.ts";
import type { StoredCheckpoint } from "../store/tlog-tables.ts";
import { witnessedBy, type WitnessPolicy } from "./witness-policy.ts";

export type CheckpointState = "consistent" | "truncated" | "forked" | "bad_signature" | "malformed" | "unwitnessed";

export interface CheckpointVerdict {
  /** "database" or the file it came from. */
  source: string;
  state: CheckpointState;
  origin: string;
  size: number;
  root: string;
  /** The receipts' root at this size, when the database reaches it. */
  dbRoot?: string;
  createdAt?: string;
  /** Witnesses whose cosignature verified (with --witness). */
  witnesses?: string[];
  detail: string;
}

export function originOf(note: string): string {
  const nl = note.indexOf("\n");
  return nl < 0 ? "" : note.slice(0, nl);
}

/** Verifies the log's signature on a checkpoint note (key name = its origin) and parses it. */
function openLogCheckpoint(note: string, key: Uint8Array): Checkpoint | string {
  const origin = originOf(note);
  let verifier;
  try {
    verifier = ed25519NoteVerifier(origin, key);
  } catch (err) {
    return (err as Error).message;
  }
  try {
    const opened = openNote(note, [verifier]);
    return parseCheckpoint(opened.text);
  } catch (err) {
    if (err instanceof NoteError && /not signed by any known key/.test(err.message)) return `not signed by this public key as ${JSON.stringify(origin)}`;
    return (err as Error).message;
  }
}

export function judge(
  source: string, note: string, key: Uint8Array, receipts: number, roots: ReadonlyMap<number, Uint8Array>, createdAt: string | undefined,
  policy: WitnessPolicy | null,
): CheckpointVerdict {
  const base = { source, origin: originOf(note), size: -1, root: "", ...(createdAt === undefined ? {} : { createdAt }) };
  const c = openLogCheckpoint(note, key);
  if (typeof c === "string") {
    return { ...base, state: /not signed|does not verify/.test(c) ? "bad_signature" : "malformed", detail: c };
  }
  const v: CheckpointVerdict = { ...base, size: c.size, root: encodeBase64(c.root), state: "consistent", detail: "" };
  if (policy !== null) v.witnesses = witnessedBy(policy, note);
  if (c.size > receipts) {
    v.state = "truncated";
    v.detail = `it covers ${c.size} receipts; the database holds ${receipts}${receipts > 0 ? ` (root ${encodeBase64(roots.get(receipts) ?? EMPTY_ROOT)} at ${receipts})` : ""}`;
    return v;
  }
  const mine = roots.get(c.size);
  if (mine === undefined) return { ...v, state: "malformed", detail: "internal: no root computed at this size" };
  v.dbRoot = encodeBase64(mine);
  if (!equalHashes(mine, c.root)) {
    v.state = "forked";
    v.detail = `its root is ${v.root}; the database's receipts give ${v.dbRoot} at size ${c.size}: receipts it covers were changed, removed or reordered`;
  }
  return v;
}


/**
 * A row of tlog_checkpoints: its note judged as above (`note` may carry the
 * stored cosignatures too), and the row's own size and root columns held to
 * the note's, since proofs and `checkpoint` read those.
 */
export function judgeStored(
  c: StoredCheckpoint, note: string, key: Uint8Array, receipts: number, roots: ReadonlyMap<number, Uint8Array>, policy: WitnessPolicy | null,
): CheckpointVerdict {
  const v = judge("database", note, key, receipts, roots, c.createdAt, policy);
  if (v.state === "consistent" && (v.size !== c.size || v.root !== encodeBase64(c.root))) {
    return { ...v, state: "malformed", detail: `the row's size/root columns (${c.size}, ${encodeBase64(c.root)}) are not its note's` };
  }
  return v;
}
