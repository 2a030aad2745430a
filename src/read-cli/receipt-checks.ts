// What `show` says above a receipt: whether its signature verifies under the
// public key, whether its link to the previous receipt holds, where it sits
// in its chain, and what a synthetic receipt means. The same per-receipt
// check as `verify` (src/verify/check-receipt.ts), for one receipt.
import type { KeyObject } from "node:crypto";
import { CHAIN_INTERRUPTED_TYPE, EVENTS_DROPPED_TYPE } from "../daemon/pipeline/builder.ts";
import type { ChainInfo } from "../query/chains.ts";
import type { ReceiptReader } from "../query/reader.ts";
import type { StoredReceipt } from "../query/record.ts";
import { receiptHash } from "../receipt/canonical.ts";
import { checkReceipt } from "../verify/check-receipt.ts";

export type Verdict = "ok" | "bad" | "unchecked";

export interface Finding {
  verdict: Verdict;
  text: string;
}

export interface ShowChecks {
  signature: Finding;
  link: Finding;
  position: string;
  /** Sentences for receipts whose meaning is not obvious from their fields. */
  notes: string[];
}

export type KeyState = { key: KeyObject; fingerprint: string; path: string } | { problem: string };

interface Shape {
  issuer?: { session_id?: unknown };
  credentialSubject?: {
    action?: { type?: unknown; peer_credential?: { pid?: unknown; uid?: unknown }; emitter_metadata?: { drop_count?: unknown } };
    chain?: { terminal?: unknown; status?: unknown; previous_receipt_hash?: unknown };
    delegation?: { parent_chain_id?: unknown; parent_receipt_id?: unknown };
  };
}

function parse(json: string): Shape {
  try {
    const v = JSON.parse(json) as unknown;
    return typeof v === "object" && v !== null ? (v as Shape) : {};
  } catch {
    return {};
  }
}

function signatureOf(r: StoredReceipt, k: KeyState): Finding {
  if ("problem" in k) return { verdict: "unchecked", text: `not checked: ${k.problem}` };
  const c = checkReceipt(r.json, k.key);
  if (c.problem === undefined) return { verdict: "ok", text: `valid under key ${k.fingerprint} (${k.path})` };
  if (c.problem === "bad_signature") return { verdict: "bad", text: `INVALID: does not verify under key ${k.fingerprint} (${k.path})` };
  return { verdict: "bad", text: `INVALID: ${c.problem === "malformed_proof" ? "malformed proof" : "malformed receipt"}: ${c.detail ?? ""}` };
}

/** The hash of a stored receipt (SHA-256 of its canonical form without proof), as verifiers compute it; null when malformed. */
function hashOf(json: string): string | null {
  try {
    const v = JSON.parse(json) as unknown;
    return typeof v === "object" && v !== null ? receiptHash(v) : null;
  } catch {
    return null;
  }
}

function linkOf(reader: ReceiptReader, r: StoredReceipt, shape: Shape): Finding {
  const prevHash = shape.credentialSubject?.chain?.previous_receipt_hash;
  if (r.sequence === 1) {
    return prevHash === null
      ? { verdict: "ok", text: "first receipt of its chain (no previous receipt)" }
      : { verdict: "bad", text: `BROKEN: the first receipt of a chain must have previous_receipt_hash null, not ${JSON.stringify(prevHash)}` };
  }
  const prev = reader.at(r.chainId, r.sequence - 1);
  if (prev === null) return { verdict: "bad", text: `BROKEN: the previous receipt (sequence ${r.sequence - 1}) is missing from the database` };
  const actual = hashOf(prev.json);
  if (actual === null) return { verdict: "bad", text: `BROKEN: the previous receipt (sequence ${r.sequence - 1}) cannot be hashed (malformed)` };
  return prevHash === actual
    ? { verdict: "ok", text: `intact: previous_receipt_hash is the hash of sequence ${r.sequence - 1}` }
    : { verdict: "bad", text: `BROKEN: previous_receipt_hash ${String(prevHash)} != hash of sequence ${r.sequence - 1} ${actual}` };
}

function positionOf(r: StoredReceipt, chain: ChainInfo | undefined, shape: Shape): string {
  const where = `chain ${r.chainId}, sequence ${r.sequence}`;
  if (chain === undefined) return where;
  const last = r.sequence === chain.lastSequence;
  const terminal = shape.credentialSubject?.chain?.terminal === true;
  return `${where} of ${chain.firstSequence}..${chain.lastSequence}${last ? (terminal ? " (its terminator)" : " (its newest receipt)") : ""}`;
}

function notesOf(shape: Shape): string[] {
  const s = shape.credentialSubject;
  const notes: string[] = [];
  if (s?.action?.type === EVENTS_DROPPED_TYPE) {
    const n = s.action.emitter_metadata?.drop_count;
    const peer = s.action.peer_credential;
    const who = [
      typeof shape.issuer?.session_id === "string" ? `session ${shape.issuer.session_id}` : null,
      typeof peer?.pid === "number" ? `pid ${peer.pid}` : null,
      typeof peer?.uid === "number" ? `uid ${peer.uid}` : null,
    ].filter((x) => x !== null).join(", ");
    notes.push(
      `events_dropped: the emitter${who === "" ? "" : ` (${who})`} reported ${typeof n === "number" ? n : "some"} event(s) it could not ` +
        "deliver before the next receipt. What they were is lost; this receipt records that they happened.",
    );
  }
  if (s?.chain?.terminal === true) {
    notes.push(
      s.chain.status === "complete"
        ? "terminator: the issuer ended this chain on purpose (status complete). Nothing may follow it."
        : `terminator: the daemon closed this chain when it stopped (status ${String(s.chain.status)}${s.action?.type === CHAIN_INTERRUPTED_TYPE ? ", chain_interrupted" : ""}). ` +
          "Nothing may follow it; the daemon's next start writes to a new chain (the base id with -2, -3, ... appended).",
    );
  }
  const d = s?.delegation;
  if (d !== undefined && typeof d.parent_chain_id === "string") {
    notes.push(`delegation: the first receipt of a sub-agent chain, started from receipt ${String(d.parent_receipt_id)} of chain ${d.parent_chain_id}.`);
  }
  return notes;
}

export function checkShown(reader: ReceiptReader, r: StoredReceipt, chain: ChainInfo | undefined, k: KeyState): ShowChecks {
  const shape = parse(r.json);
  return { signature: signatureOf(r, k), link: linkOf(reader, r, shape), position: positionOf(r, chain, shape), notes: notesOf(shape) };
}
