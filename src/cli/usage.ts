// Help text: the full command path, options in an aligned column, everything
// wrapped to the terminal width (80 when not a terminal), no trailing spaces,
// colour only through the Paint it is given.
import type { ArgsDef } from "citty";
import type { Paint } from "./color.ts";

export interface UsageEntry {
  /** Full command path, e.g. "agent-receipts hook claude-code". */
  path: string;
  description: string;
  args: ArgsDef;
  /** Subcommands with one-line summaries, for commands that group others. */
  commands?: Array<{ name: string; summary: string }>;
  /** Extra lines after the options (examples, exit codes). */
  footer?: string;
}

/** Greedy word wrap; `indent` prefixes continuation lines. */
export function wrap(text: string, width: number, indent = ""): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/ +/)) {
      if (word === "") continue;
      const prefix = lines.length === 0 && line === "" ? "" : indent;
      if (line !== "" && (prefix.length + line.length + 1 + word.length) > width) {
        lines.push(line);
        line = word;
      } else {
        line = line === "" ? word : `${line} ${word}`;
      }
    }
    lines.push(line);
  }
  return lines.map((l, i) => (i === 0 ? l : `${indent}${l}`).trimEnd());
}

function table(rows: Array<[string, string]>, width: number, paint: Paint): string[] {
  const left = Math.min(Math.max(...rows.map(([l]) => l.length)) + 2, 32);
  const out: string[] = [];
  for (const [l, r] of rows) {
    const pad = " ".repeat(2);
    if (l.length + 2 > left || width - left - 2 < 24) {
      // Too long for the column, or the terminal too narrow: description on its own lines.
      out.push(`${pad}${paint.accent(l)}`);
      out.push(...wrap(r, width - 6, "").map((x) => `      ${x}`.trimEnd()));
      continue;
    }
    const body = wrap(r, width - left - 2, "");
    out.push(`${pad}${paint.accent(l)}${" ".repeat(left - l.length)}${body[0] ?? ""}`.trimEnd());
    for (const more of body.slice(1)) out.push(`${pad}${" ".repeat(left)}${more}`.trimEnd());
  }
  return out;
}

function optionLabel(name: string, def: ArgsDef[string]): string {
  const alias = "alias" in def && def.alias !== undefined ? [def.alias].flat().map((a) => `-${a}, `).join("") : "";
  const hint = def.type === "boolean" ? "" : ` ${def.valueHint ?? (def.type === "enum" && def.options ? def.options.join("|") : "VALUE")}`;
  return `${alias}--${name}${hint}`;
}

export function renderUsage(entry: UsageEntry, width: number, paint: Paint): string {
  const positionals = Object.entries(entry.args).filter(([, d]) => d.type === "positional");
  const options = Object.entries(entry.args).filter(([, d]) => d.type !== "positional");
  const synopsis = [
    entry.path,
    entry.commands ? `{${entry.commands.map((c) => c.name).join(" | ")}}` : "",
    options.length > 0 ? "[options]" : "",
    ...positionals.map(([n, d]) => (d.required ? `<${n}>` : `[${n}]`)),
  ].filter(Boolean).join(" ");
  const usage = wrap(`Usage: ${synopsis}`, width, "         ");
  const lines = [...wrap(entry.description, width), "", `${paint.bold("Usage:")}${usage[0]!.slice("Usage:".length)}`, ...usage.slice(1)];
  if (entry.commands) {
    lines.push("", paint.bold("Commands:"), ...table(entry.commands.map((c) => [c.name, c.summary]), width, paint));
  }
  if (positionals.length > 0) {
    lines.push("", paint.bold("Arguments:"), ...table(positionals.map(([n, d]) => [`<${n}>`, d.description ?? ""]), width, paint));
  }
  const rows: Array<[string, string]> = options.map(([n, d]) => [optionLabel(n, d), d.description ?? ""]);
  rows.push(["-h, --help", "Show this help"], ["--version", "Print the version"], ["--no-color", "No colour (also NO_COLOR=1, TERM=dumb, or output not a terminal)"]);
  lines.push("", paint.bold("Options:"), ...table(rows, width, paint));
  if (entry.commands?.[0]) lines.push("", ...wrap(`Run "${entry.path} ${entry.commands[0].name} --help" (or any command's name) for that command's options.`, width));
  if (entry.footer) lines.push("", ...wrap(entry.footer, width));
  return `${lines.join("\n")}\n`;
}
