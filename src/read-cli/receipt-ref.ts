// What `show <ref>` accepts: a receipt id (urn:receipt:<uuid>, or the bare
// uuid), a sequence number in the newest root chain, or CHAIN:SEQ.
import { UserFacingError } from "../errors.ts";
import type { ChainInfo } from "../query/chains.ts";
import type { ReceiptReader } from "../query/reader.ts";
import type { StoredReceipt } from "../query/record.ts";

export type ReceiptRef =
  | { kind: "id"; id: string }
  | { kind: "sequence"; sequence: number }
  | { kind: "position"; chainId: string; sequence: number };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FORMS = "a receipt id (urn:receipt:<uuid>), a sequence number in the newest chain (42), or CHAIN:SEQ (2026-11-28:42)";

export function parseRef(text: string): ReceiptRef {
  const t = text.trim();
  if (t.startsWith("urn:receipt:")) return { kind: "id", id: t };
  if (UUID.test(t)) return { kind: "id", id: `urn:receipt:${t.toLowerCase()}` };
  if (/^[0-9]+$/.test(t) && Number.isSafeInteger(Number(t))) return { kind: "sequence", sequence: Number(t) };
  const m = /^(.+):([0-9]+)$/.exec(t);
  if (m && Number.isSafeInteger(Number(m[2]))) return { kind: "position", chainId: m[1]!, sequence: Number(m[2]) };
  throw new UserFacingError(`"${text}" is not a receipt reference: give ${FORMS}.`);
}

/** The newest root chain (sub-agent chains run beside it): where a bare sequence number points. */
export function newestRootChain(chains: readonly ChainInfo[]): ChainInfo | undefined {
  const byNewest = [...chains].sort((a, b) => b.lastRowid - a.lastRowid);
  return byNewest.find((c) => !c.chainId.includes("/agent/")) ?? byNewest[0];
}

function inChain(reader: ReceiptReader, chain: ChainInfo | undefined, chainId: string, sequence: number, db: string, newest: boolean): StoredReceipt {
  if (chain === undefined) throw new UserFacingError(`no chain "${chainId}" in ${db}. Run agent-receipts list to see the chains.`);
  const found = reader.at(chain.chainId, sequence);
  if (found !== null) return found;
  const which = newest ? `the newest chain, ${chain.chainId},` : `chain ${chain.chainId}`;
  throw new UserFacingError(
    `${which} has no receipt with sequence ${sequence}: it holds sequences ${chain.firstSequence} to ${chain.lastSequence}.` +
      (newest ? " Give CHAIN:SEQ for another chain." : ""),
  );
}

export function resolveRef(reader: ReceiptReader, ref: ReceiptRef, db: string): StoredReceipt {
  if (ref.kind === "id") {
    const found = reader.byId(ref.id);
    if (found === null) throw new UserFacingError(`no receipt ${ref.id} in ${db}. Run agent-receipts list to find receipts.`);
    return found;
  }
  const chains = reader.chains();
  if (ref.kind === "sequence") {
    const newest = newestRootChain(chains);
    if (newest === undefined) throw new UserFacingError(`${db} holds no receipts yet.`);
    return inChain(reader, newest, newest.chainId, ref.sequence, db, true);
  }
  return inChain(reader, chains.find((c) => c.chainId === ref.chainId), ref.chainId, ref.sequence, db, false);
}
