// The proxy's optional policy: ordered rules that match a call by tool-name
// glob, server-name glob and the daemon's risk level of its action type,
// first match wins; and an optional table giving tools their action type
// (so the receipt's type and risk level mean something). Pure: loading and
// checking the file is policy-file.ts.
import { riskLevelOf } from "../daemon/pipeline/risk.ts";
import type { RiskLevel } from "../receipt/types.ts";
import { MCP_CHANNEL } from "./frames.ts";

export const POLICY_ACTIONS = ["allow", "deny", "pause"] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];
export const RISK_LEVELS: readonly RiskLevel[] = ["low", "medium", "high", "critical"];
export const DEFAULT_PAUSE_TIMEOUT_MS = 120_000;

/** `*` any run of characters, `?` one character; everything else literal; the whole name must match. */
export function globPattern(glob: string): RegExp {
  const body = [...glob].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("");
  return new RegExp(`^${body}$`, "s");
}

export interface Matcher {
  /** null: any tool. */
  tools: RegExp[] | null;
  /** null: any server (also an unknown one); see ruleMatches for rules when the name is unknown. */
  servers: RegExp[] | null;
}

export interface PolicyRule extends Matcher {
  name: string;
  risks: RiskLevel[] | null;
  action: PolicyAction;
  timeoutMs: number;
}

export interface ActionTypeRule extends Matcher {
  type: string;
}

export interface Policy {
  rules: PolicyRule[];
  actionTypes: ActionTypeRule[];
  /** What applies when no rule matches (the rule name reported is "default"). */
  fallback: PolicyRule;
}

export interface Verdict {
  action: PolicyAction;
  rule: string;
  timeoutMs: number;
  risk: RiskLevel;
}

function matches(m: Matcher, tool: string, server: string | undefined): boolean {
  if (m.tools !== null && !m.tools.some((g) => g.test(tool))) return false;
  if (m.servers !== null && (server === undefined || !m.servers.some((g) => g.test(server)))) return false;
  return true;
}

/** The action type the frame declares (from the table), or undefined to let the daemon derive it. */
export function actionTypeFor(policy: Policy, tool: string, server: string | undefined): string | undefined {
  return policy.actionTypes.find((a) => matches(a, tool, server))?.type;
}

/** The daemon's derivation (docs/protocol.md §4.3) for channel mcp, so that the risk level is the one the receipt will carry. */
function effectiveActionType(declared: string | undefined, tool: string, server: string | undefined): string {
  if (declared !== undefined && declared !== "") return declared;
  return server ? `${MCP_CHANNEL}.${server}.${tool}` : `${MCP_CHANNEL}.${tool}`;
}

/**
 * A rule naming servers, while the server's name is unknown (no `--name`, and
 * no `serverInfo` yet: a 2026-07-28 client may skip discovery): a `deny` or
 * `pause` rule applies rather than being skipped, so that leaving the name
 * unknown cannot get a call past a server-scoped refusal; an `allow` rule
 * does not.
 */
function ruleMatches(r: PolicyRule, tool: string, server: string | undefined): boolean {
  if (server === undefined && r.servers !== null) return r.action !== "allow" && matches({ tools: r.tools, servers: null }, tool, server);
  return matches(r, tool, server);
}

export function decide(policy: Policy, tool: string, server: string | undefined): Verdict {
  const risk = riskLevelOf(effectiveActionType(actionTypeFor(policy, tool, server), tool, server));
  const rule = policy.rules.find((r) => ruleMatches(r, tool, server) && (r.risks === null || r.risks.includes(risk))) ?? policy.fallback;
  return { action: rule.action, rule: rule.name, timeoutMs: rule.timeoutMs, risk };
}
