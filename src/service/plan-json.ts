// `service install|uninstall --dry-run --json`: the plan in the stable,
// snake_case form of every --json output (README "JSON output"). The
// camelCase fields of the plan are renamed here; tests/e2e/json-output.test.ts
// fails on any other key that is not snake_case.
import type { Owner, Plan, Step } from "./plan.ts";

export type StepJson =
  | { kind: "write"; path: string; mode: number; owner?: Owner; content: string; source: string; keep_existing?: boolean }
  | { kind: "mkdir"; path: string; mode: number; owner?: Owner }
  | { kind: "run"; argv: string[]; why: string; stdin?: string; may_fail?: boolean }
  | { kind: "remove"; path: string };

export interface PlanJson {
  action: Plan["action"];
  scope: Plan["scope"];
  platform: Plan["platform"];
  steps: StepJson[];
  notes: string[];
}

function stepJson(step: Step): StepJson {
  switch (step.kind) {
    case "write": {
      const { keepExisting, ...rest } = step;
      return keepExisting === undefined ? rest : { ...rest, keep_existing: keepExisting };
    }
    case "run": {
      const { mayFail, ...rest } = step;
      return mayFail === undefined ? rest : { ...rest, may_fail: mayFail };
    }
    case "mkdir":
    case "remove":
      return step;
  }
}

export function planJson(plan: Plan): PlanJson {
  return { action: plan.action, scope: plan.scope, platform: plan.platform, steps: plan.steps.map(stepJson), notes: plan.notes };
}
