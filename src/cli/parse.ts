// Strict argument parsing from a command's citty argument definitions:
// unknown flags, missing values, repeated flags and extra words are usage
// errors (exit 2), and a value may start with "-" (`--timeout-ms -5` is a
// range error from the command, not an unknown flag).
import type { ArgDef, ArgsDef } from "citty";
import { UsageError } from "../errors.ts";
import { didYouMean } from "./suggest.ts";

export type ParsedValue = string | boolean | undefined;
export interface Parsed {
  values: Record<string, ParsedValue>;
  /** Positional words, in order, after named positionals took theirs. */
  rest: string[];
}

/** Flags every command accepts; the dispatcher acts on them before parsing. */
export const GLOBAL_FLAGS = ["help", "version", "no-color"] as const;

function aliasesOf(def: ArgDef): string[] {
  return "alias" in def && def.alias !== undefined ? [def.alias].flat() : [];
}

export function parseCommandArgs(defs: ArgsDef, argv: readonly string[], acceptsRest = false): Parsed {
  const values: Record<string, ParsedValue> = {};
  const byFlag = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    byFlag.set(name, name);
    for (const a of aliasesOf(def)) byFlag.set(a, name);
  }
  const positionals = Object.entries(defs).filter(([, d]) => d.type === "positional").map(([n]) => n);
  const words: string[] = [];
  const seen = new Set<string>();

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      words.push(...argv.slice(i + 1));
      break;
    }
    // "-" is a word (stdin by convention); so is a negative number.
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) {
      words.push(arg);
      continue;
    }
    const long = arg.startsWith("--");
    const [rawName, inline] = splitInline(long ? arg.slice(2) : arg.slice(1));
    if ((GLOBAL_FLAGS as readonly string[]).includes(rawName) || (!long && rawName === "h")) continue;
    let name = byFlag.get(rawName);
    let negated = false;
    if (name === undefined && long && rawName.startsWith("no-")) {
      const base = byFlag.get(rawName.slice(3));
      if (base !== undefined && defs[base]!.type === "boolean") [name, negated] = [base, true];
    }
    if (name === undefined) {
      const known = [...byFlag.keys()].filter((k) => k.length > 1).map((k) => `--${k}`);
      throw new UsageError(`unknown option "${arg.split("=")[0]}".${didYouMean(`--${rawName}`, known)} Run with --help to see the options.`);
    }
    const def = defs[name]!;
    const shown = long ? `--${rawName}` : `-${rawName}`;
    if (seen.has(name)) throw new UsageError(`${shown} is given more than once; give it once.`);
    seen.add(name);
    if (def.type === "boolean") {
      if (inline !== undefined && inline !== "true" && inline !== "false") throw new UsageError(`${shown} is a switch and takes no value (got "${inline}").`);
      values[name] = negated ? false : inline !== "false";
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${shown} needs a value${def.valueHint ? ` (${def.valueHint})` : ""}.`);
      value = argv[++i]!;
    }
    if (def.type === "enum" && def.options !== undefined && !def.options.includes(value)) {
      throw new UsageError(`${shown} must be one of ${def.options.join(", ")} (got "${value}").`);
    }
    values[name] = value;
  }

  for (const name of positionals) {
    const word = words.shift();
    if (word !== undefined) values[name] = word;
    else if (defs[name]!.required) throw new UsageError(`missing <${name}>. Run with --help for the usage.`);
  }
  if (words.length > 0 && !acceptsRest) {
    throw new UsageError(`unexpected argument${words.length > 1 ? "s" : ""} ${words.map((w) => `"${w}"`).join(" ")}. This command takes ${positionals.length === 0 ? "no words, only options" : `only ${positionals.map((p) => `<${p}>`).join(" ")}`}; run with --help.`);
  }
  for (const [name, def] of Object.entries(defs)) {
    if (def.type !== "positional" && def.required && values[name] === undefined) throw new UsageError(`--${name} is required.`);
  }
  return { values, rest: words };
}

function splitInline(flag: string): [string, string | undefined] {
  const eq = flag.indexOf("=");
  return eq < 0 ? [flag, undefined] : [flag.slice(0, eq), flag.slice(eq + 1)];
}
