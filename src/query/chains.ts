// The chains of a database, found through the (chain_id, sequence) index
// alone: one index seek per chain (a "loose index scan"), never a pass over
// every row, so listing them costs the same for a hundred receipts or millions.
import type { Database } from "bun:sqlite";
import { escapeGlob, part, type SqlPart } from "./sql.ts";
import type { ReceiptFilter } from "./filter.ts";

export interface ChainInfo {
  chainId: string;
  firstSequence: number;
  lastSequence: number;
  firstRowid: number;
  lastRowid: number;
  /** issuanceDate of the last receipt, as stored. */
  lastTimestamp: string;
  /** The last receipt is a terminator: nothing may follow it. */
  terminal: boolean;
}

const CHAIN_IDS = `
WITH RECURSIVE c(id) AS (
  SELECT (SELECT min(chain_id) FROM receipts)
  UNION ALL
  SELECT (SELECT min(chain_id) FROM receipts WHERE chain_id > c.id) FROM c WHERE c.id IS NOT NULL
)
SELECT id FROM c WHERE id IS NOT NULL`;

interface EndRow {
  rowid: number;
  sequence: number;
  timestamp: unknown;
  receipt_json: unknown;
}

function isTerminal(json: unknown): boolean {
  if (typeof json !== "string") return false;
  try {
    return (JSON.parse(json) as { credentialSubject?: { chain?: { terminal?: unknown } } }).credentialSubject?.chain?.terminal === true;
  } catch {
    return false;
  }
}

/** One chain's ends, or undefined when it has no receipt. */
export function chainInfo(db: Database, chainId: string): ChainInfo | undefined {
  const first = db.query<EndRow, [string]>("SELECT rowid AS rowid, sequence, timestamp, NULL AS receipt_json FROM receipts WHERE chain_id = ? ORDER BY sequence LIMIT 1").get(chainId);
  const last = db.query<EndRow, [string]>("SELECT rowid AS rowid, sequence, timestamp, receipt_json FROM receipts WHERE chain_id = ? ORDER BY sequence DESC LIMIT 1").get(chainId);
  if (first === null || last === null) return undefined;
  return {
    chainId, firstSequence: first.sequence, lastSequence: last.sequence, firstRowid: first.rowid, lastRowid: last.rowid,
    lastTimestamp: typeof last.timestamp === "string" ? last.timestamp : String(last.timestamp), terminal: isTerminal(last.receipt_json),
  };
}

/** Every chain, oldest first (by its first receipt's commit). */
export function listChains(db: Database): ChainInfo[] {
  const ids = db.query<{ id: unknown }, []>(CHAIN_IDS).all().map((r) => r.id).filter((id): id is string => typeof id === "string");
  return ids.map((id) => chainInfo(db, id)).filter((c): c is ChainInfo => c !== undefined).sort((x, y) => x.firstRowid - y.firstRowid);
}

/**
 * Whether `chainId` is one of the agent's sub-agent chains: `<root>/agent/<agent>`
 * or a continuation `<root>/agent/<agent>-<n>` (docs/protocol.md §6.5, §6.7),
 * under `root` when given.
 */
export function isAgentChain(chainId: string, agent: string, root?: string): boolean {
  const tail = `/agent/${agent}`;
  const at = chainId.lastIndexOf(tail);
  if (at < 0) return false;
  if (root !== undefined && chainId.slice(0, at) !== root) return false;
  if (root === undefined && at === 0) return false;
  const rest = chainId.slice(at + tail.length);
  return rest === "" || /^-[0-9]+$/.test(rest);
}

/** The same test as isAgentChain, in SQL, for rows committed after the chains were listed (tail -f). */
export function agentChainSql(agent: string, root?: string): SqlPart {
  const head = root === undefined ? "?*" : escapeGlob(root);
  const exact = `${head}/agent/${escapeGlob(agent)}`;
  return part(
    "(chain_id GLOB ? OR (rtrim(chain_id, '0123456789') GLOB ? AND rtrim(chain_id, '0123456789') <> chain_id))",
    exact, `${exact}-`,
  );
}

/** The chains a filter's chain and agent fields select, from the chains listed; undefined when it does not narrow by chain. */
export function selectChains(chains: readonly ChainInfo[], f: ReceiptFilter): ChainInfo[] | undefined {
  if (f.agent !== undefined) return chains.filter((c) => isAgentChain(c.chainId, f.agent!, f.chain));
  if (f.chain !== undefined) return chains.filter((c) => c.chainId === f.chain);
  return undefined;
}

/** The SQL form of the chain and agent fields; undefined when the filter does not narrow by chain. */
export function chainSql(f: ReceiptFilter): SqlPart | undefined {
  if (f.agent !== undefined) return agentChainSql(f.agent, f.chain);
  if (f.chain !== undefined) return part("chain_id = ?", f.chain);
  return undefined;
}
