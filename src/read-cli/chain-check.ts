// A --chain or --agent that names nothing in the database is most likely a
// typo: say so, with the chains there are, rather than print an empty result.
import { UserFacingError } from "../errors.ts";
import { selectChains, type ChainInfo } from "../query/chains.ts";
import type { ReceiptFilter } from "../query/filter.ts";
import type { ReceiptReader } from "../query/reader.ts";

function known(chains: readonly ChainInfo[]): string {
  if (chains.length === 0) return "the database has no chains yet";
  const newest = [...chains].sort((a, b) => b.lastRowid - a.lastRowid).slice(0, 8).map((c) => c.chainId);
  return `chains: ${newest.join(", ")}${chains.length > newest.length ? `, ... (${chains.length} in all)` : ""}`;
}

/** Lists the chains only when the filter names one. */
export function checkChainFilter(reader: ReceiptReader, f: ReceiptFilter, db: string): void {
  if (f.chain === undefined && f.agent === undefined) return;
  if (f.agent === undefined && reader.chain(f.chain!) !== undefined) return;
  const chains = reader.chains();
  const selected = selectChains(chains, f);
  if (selected === undefined || selected.length > 0) return;
  if (f.agent !== undefined) {
    const under = f.chain === undefined ? "" : ` under chain ${f.chain}`;
    throw new UserFacingError(`no sub-agent chain of agent "${f.agent}"${under} in ${db} (${known(chains)}). Check the agent id.`);
  }
  throw new UserFacingError(`no chain "${f.chain}" in ${db} (${known(chains)}). Check the chain id, or leave out --chain for every chain.`);
}
