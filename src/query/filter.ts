// What a reader asks for. Every field narrows the selection; an empty filter
// selects every receipt of every chain.
import type { OutcomeStatus, RiskLevel } from "../receipt/types.ts";

export const RISK_LEVELS = ["low", "medium", "high", "critical"] as const satisfies readonly RiskLevel[];
export const OUTCOME_STATUSES = ["success", "failure", "pending"] as const satisfies readonly OutcomeStatus[];

export interface ReceiptFilter {
  /** Exactly this chain id. With `agent`: that root chain's sub-agent chains of the agent. */
  chain?: string;
  /** The sub-agent chains of this agent_id: `<root>/agent/<id>` and their continuations `<id>-2`, `-3`, ... */
  agent?: string;
  /** issuanceDate at or after this instant. */
  since?: Date;
  /** issuanceDate before this instant. */
  until?: Date;
  /** issuer.session_id, exactly. */
  session?: string;
  /** The channel, as the start of derived action types (`<channel>.<tool>`); the receipt has no channel member of its own. */
  channel?: string;
  /** GLOB on action.tool_name. */
  tool?: string;
  /** GLOB on action.type. */
  type?: string;
  /** This risk level and the ones above it. */
  risk?: RiskLevel;
  status?: OutcomeStatus;
  /** peer_credential.uid, as attested by the kernel. */
  uid?: number;
  /** GLOB on peer_credential.exe_path; a pattern without "/" is matched against the executable's base name. */
  exe?: string;
}

/** The levels a `risk` filter selects. */
export function riskAtLeast(level: RiskLevel): RiskLevel[] {
  return RISK_LEVELS.slice(RISK_LEVELS.indexOf(level));
}

/** Filters that pick receipts out of a chain (not whole runs of it); their export has gaps that verify reports. */
export function selectiveFilterNames(f: ReceiptFilter): string[] {
  const names: Array<[keyof ReceiptFilter, string]> = [
    ["session", "--session"], ["channel", "--channel"], ["tool", "--tool"], ["type", "--type"], ["risk", "--risk"],
    ["status", "--status"], ["uid", "--uid"], ["exe", "--exe"],
  ];
  return names.filter(([k]) => f[k] !== undefined).map(([, flag]) => flag);
}
