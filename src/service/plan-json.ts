// `service install|uninstall --dry-run --json`: the plan in the stable,
// snake_case form of every --json output (README "JSON output"). The
// camelCase fields of the plan are renamed here; tests/e2e/json-output.test.ts
// fails on any other key that is not snake_case.
import type { Owner, Plan, Step } from "./plan.ts";

export type StepJson =
  | { kind: "write"; path: string; mode: string; owner?: Owner; content: string; source: string; keep_existing?: boolean }
  | { kind: "mkdir"; path: string; mode: string; owner?: Owner }
  | { kind: "run"; argv: string[]; why: string; stdin?: string; may_fail?: boolean }
  | { kind: "remove"; path: string };

export interface PlanJson {
  action: Plan["action"];
  scope: Plan["scope"];
  platform: Plan["platform"];
  steps: StepJson[];
  notes: string[];
}

/** File modes as people write them: "0644", never the decimal 420. */
export function octalMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
}

function stepJson(step: Step): StepJson {
  switch (step.kind) {
    case "write": {
      const { keepExisting, mode, ...rest } = step;
      const json = { ...rest, mode: octalMode(mode) };
      return keepExisting === undefined ? json : { ...json, keep_existing: keepExisting };
    }
    case "run": {
      const { mayFail, ...rest } = step;
      return mayFail === undefined ? rest : { ...rest, may_fail: mayFail };
    }
    case "mkdir":
      return { ...step, mode: octalMode(step.mode) };
    case "remove":
      return step;
  }
}

export function planJson(plan: Plan): PlanJson {
  return { action: plan.action, scope: plan.scope, platform: plan.platform, steps: plan.steps.map(stepJson), notes: plan.notes };
}
