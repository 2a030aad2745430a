// doctor's screen: one line per check, its fix indented below it.
import type { Paint } from "../cli/color.ts";
import type { DoctorJson } from "./run.ts";

const NAME = 17;

export function renderDoctor(report: DoctorJson, p: Paint): string {
  const lines: string[] = [];
  for (const c of report.checks) {
    const level = c.level === "ok" ? p.dim("ok  ") : c.level === "warn" ? p.accent("warn") : p.bold("fail");
    lines.push(`${level}  ${c.name.padEnd(NAME)}${c.message}`);
    if (c.fix !== null) lines.push(`      ${" ".repeat(NAME)}${p.bold("fix:")} ${c.fix}`);
  }
  const { ok, warn, fail } = report.counts;
  lines.push("", `${ok} ok, ${warn} ${warn === 1 ? "warning" : "warnings"}, ${fail} failed`);
  return `${lines.join("\n")}\n`;
}
