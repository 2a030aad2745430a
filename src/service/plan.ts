// What `service install|uninstall` will do, as data: printed by --dry-run
// (text or JSON), carried out step by step otherwise.
import type { Platform } from "../paths/resolve.ts";

export type Scope = "system" | "user";

export interface Owner {
  user: string;
  group: string;
}

export type Step =
  | { kind: "write"; path: string; mode: number; owner?: Owner; content: string; source: string; keepExisting?: boolean }
  | { kind: "mkdir"; path: string; mode: number; owner?: Owner }
  | { kind: "run"; argv: string[]; why: string; stdin?: string; mayFail?: boolean }
  | { kind: "remove"; path: string };

export type WriteStep = Extract<Step, { kind: "write" }>;

export interface Plan {
  action: "install" | "uninstall";
  scope: Scope;
  platform: Platform;
  steps: Step[];
  /** Said after the steps: what was kept, what to do next. */
  notes: string[];
}

const octal = (mode: number) => mode.toString(8).padStart(4, "0");
const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);

export function commandLine(argv: string[]): string {
  return argv.map(quote).join(" ");
}

/** One line per step, for progress and for the dry-run listing. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case "write":
      return `write ${step.path} (${octal(step.mode)}${step.owner ? ` ${step.owner.user}:${step.owner.group}` : ""}, from packaging/${step.source}${step.keepExisting ? "; kept if it exists" : ""})`;
    case "mkdir":
      return `mkdir ${step.path} (${octal(step.mode)}${step.owner ? ` ${step.owner.user}:${step.owner.group}` : ""})`;
    case "run":
      return `run ${commandLine(step.argv)}${step.stdin !== undefined ? " <<script" : ""}  # ${step.why}${step.mayFail ? " (may fail harmlessly)" : ""}`;
    case "remove":
      return `remove ${step.path}`;
  }
}

/** The --dry-run listing: every step, and the full text of every file it would write. */
export function renderPlan(plan: Plan): string {
  const out = [`# agent-receipts service ${plan.action} --${plan.scope} (${plan.platform}), dry run: nothing was changed.`];
  plan.steps.forEach((step, i) => {
    out.push(`# ${i + 1}. ${describeStep(step)}`);
    if (step.kind === "write") out.push(step.content.replace(/\n$/, ""), `# end of ${step.path}`);
    if (step.kind === "run" && step.stdin !== undefined) out.push(step.stdin.replace(/\n$/, ""), "# end of script");
  });
  for (const note of plan.notes) out.push(`# note: ${note}`);
  return `${out.join("\n")}\n`;
}
