// Risk level by action type, from the taxonomy this product ships
// (action-types.json beside this file, bundled into the binary).
import taxonomy from "./action-types.json" with { type: "json" };
import type { RiskLevel } from "../../receipt/types.ts";

interface Taxonomy {
  domains: Record<string, { actions: Array<{ type: string; risk_level: string }> }>;
}

const RISK = new Map<string, RiskLevel>();
for (const domain of Object.values((taxonomy as Taxonomy).domains)) {
  for (const action of domain.actions) RISK.set(action.type, action.risk_level as RiskLevel);
}

/** Unknown action types are `medium` (docs/protocol.md §4). */
export function riskLevelOf(actionType: string): RiskLevel {
  return RISK.get(actionType) ?? "medium";
}
