// The single entry point: finds the command, parses its flags strictly, and
// owns how errors and usage reach the user (usage errors exit 2 in one line,
// user-facing errors print their message and code, never a stack trace).
import type { ArgsDef, CommandContext, CommandDef } from "citty";
import { EXIT_USAGE, UserFacingError, UsageError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { colorEnabled, paint } from "./color.ts";
import { printError, printLine } from "./output.ts";
import type { CliCommand } from "./command.ts";
import { parseCommandArgs } from "./parse.ts";
import { COMMANDS, ROOT_DESCRIPTION } from "./root.ts";
import { didYouMean } from "./suggest.ts";
import { renderUsage, type UsageEntry } from "./usage.ts";

const PROGRAM = "agent-receipts";

async function resolve<T>(value: T | Promise<T> | (() => T | Promise<T>) | undefined): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

function firstSentence(text: string | undefined): string {
  const t = text ?? "";
  const end = t.search(/\.(\s|$)/);
  return end < 0 ? t : t.slice(0, end);
}

interface Located {
  path: string[];
  command: CliCommand | undefined;
  rest: string[];
}

/** Follows subcommand names in argv. */
async function locate(argv: string[]): Promise<Located> {
  const path = [PROGRAM];
  const name = argv[0];
  if (name === undefined || name.startsWith("-")) return { path, command: undefined, rest: argv };
  const entry = COMMANDS[name];
  if (entry === undefined) throw new UsageError(`unknown command "${name}".${didYouMean(name, Object.keys(COMMANDS))} Run "${PROGRAM} --help" for the list.`);
  let command = await entry.load();
  let rest = argv.slice(1);
  path.push(name);
  for (;;) {
    const subs = await resolve(command.subCommands);
    const next = rest[0];
    if (subs === undefined || next === undefined || next.startsWith("-")) return { path, command, rest };
    const sub = subs[next];
    if (sub === undefined) {
      throw new UsageError(`unknown command "${next}" for ${path.join(" ")}.${didYouMean(next, Object.keys(subs))} Run "${path.join(" ")} --help" for the list.`);
    }
    command = (await resolve(sub)) as CliCommand;
    rest = rest.slice(1);
    path.push(next);
  }
}

async function usageEntry({ path, command }: Located): Promise<UsageEntry> {
  if (command === undefined) {
    return {
      path: PROGRAM, description: ROOT_DESCRIPTION, args: {},
      commands: Object.entries(COMMANDS).map(([name, e]) => ({ name, summary: e.summary })),
    };
  }
  const meta = await resolve(command.meta);
  const subs = await resolve(command.subCommands);
  const commands = subs === undefined ? undefined : await Promise.all(Object.entries(subs).map(async ([name, s]) => {
    const sub = (await resolve(s)) as CommandDef<ArgsDef>;
    return { name, summary: firstSentence((await resolve(sub.meta))?.description) };
  }));
  return { path: path.join(" "), description: meta?.description ?? "", args: (await resolve(command.args)) ?? {}, commands, footer: command.footer };
}

/** Flags before "--" only: what follows belongs to the command. */
function optionWords(argv: string[]): string[] {
  const end = argv.indexOf("--");
  return end < 0 ? argv : argv.slice(0, end);
}

export async function main(argv: string[]): Promise<void> {
  const words = optionWords(argv);
  const noColorFlag = words.includes("--no-color");
  // Errors are one plain line: no terminal check, so the common paths never touch process.stderr.
  const fail = (message: string, code: number) => {
    printError(`${PROGRAM}: ${message}`);
    process.exitCode = code;
  };
  try {
    if (words.includes("--version") || (argv.length === 1 && argv[0] === "-v")) {
      printLine(VERSION);
      return;
    }
    const located = await locate(argv);
    const help = optionWords(located.rest).some((w) => w === "--help" || w === "-h");
    if (help || located.command?.run === undefined) {
      const out = help ? process.stdout : process.stderr;
      const width = out.isTTY ? Math.max(40, out.columns ?? 80) : 80;
      const colors = paint(colorEnabled({ isTTY: out.isTTY === true, env: process.env, noColorFlag }));
      out.write(renderUsage(await usageEntry(located), width, colors));
      if (!help) fail(located.command === undefined ? "no command given" : `"${located.path.join(" ")}" needs a command`, EXIT_USAGE);
      return;
    }
    const command = located.command;
    const defs = (await resolve(command.args)) ?? {};
    let parsed;
    try {
      parsed = parseCommandArgs(defs, located.rest, command.acceptsRest === true);
    } catch (e) {
      if (e instanceof UsageError && command.onUsageError !== undefined) {
        process.exitCode = await command.onUsageError(e, located.rest);
        return;
      }
      throw e;
    }
    const context = { rawArgs: located.rest, args: { _: parsed.rest, ...parsed.values }, cmd: command } as unknown as CommandContext<ArgsDef>;
    await command.run!(context);
  } catch (e) {
    if (e instanceof UserFacingError) {
      return fail(e.message, e.exitCode);
    }
    fail(`unexpected error: ${e instanceof Error ? e.message : String(e)}`, EXIT_USAGE);
  }
}
