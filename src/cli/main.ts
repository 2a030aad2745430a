// The single entry point: dispatches subcommands with citty, and owns how
// errors and usage reach the user (usage errors exit 2, never a stack trace).
import { renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { VERSION } from "../version.ts";
import { EXIT_USAGE, UserError } from "./errors.ts";
import { rootCommand } from "./root.ts";

type AnyCommand = CommandDef<ArgsDef>;

async function resolve<T>(value: T | Promise<T> | (() => T | Promise<T>) | undefined): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** Follows subcommand names in argv; returns the command chain and the remaining args. */
async function locate(argv: string[]): Promise<{ chain: AnyCommand[]; rest: string[] }> {
  const chain: AnyCommand[] = [rootCommand as AnyCommand];
  let rest = argv;
  for (;;) {
    const subs = await resolve(chain[chain.length - 1]!.subCommands);
    const name = rest[0];
    if (!subs || name === undefined || name.startsWith("-")) return { chain, rest };
    const sub = subs[name];
    if (sub === undefined) {
      throw new UserError(`unknown command "${name}". Run "agent-receipts ${chain.length > 1 ? "<command> " : ""}--help" for the list.`);
    }
    chain.push((await resolve(sub)) as AnyCommand);
    rest = rest.slice(1);
  }
}

/** Flags citty would silently ignore are errors here. */
async function rejectUnknownFlags(cmd: AnyCommand, rest: string[]): Promise<void> {
  const args = (await resolve(cmd.args)) ?? {};
  const known = new Set<string>(["help", "h"]);
  for (const [name, def] of Object.entries(args)) {
    known.add(name);
    known.add(name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
    if ("alias" in def) for (const alias of [def.alias ?? []].flat()) known.add(alias);
    if (def.type === "boolean") known.add(`no-${name}`);
  }
  for (const arg of rest) {
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") continue;
    const name = arg.replace(/^--?/, "").split("=")[0]!;
    if (!known.has(name)) throw new UserError(`unknown option "${arg}". Run with --help to see the options.`);
  }
}

async function usageOf(chain: AnyCommand[]): Promise<string> {
  return renderUsage(chain[chain.length - 1]!, chain.length > 1 ? chain[chain.length - 2] : undefined);
}

export async function main(argv: string[]): Promise<void> {
  let chain: AnyCommand[] = [rootCommand as AnyCommand];
  try {
    if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
      process.stdout.write(`${VERSION}\n`);
      return;
    }
    const located = await locate(argv);
    chain = located.chain;
    if (located.rest.includes("--help") || located.rest.includes("-h")) {
      process.stdout.write(`${await usageOf(chain)}\n`);
      return;
    }
    const cmd = chain[chain.length - 1]!;
    if (cmd.run === undefined) {
      process.stderr.write(`${await usageOf(chain)}\n`);
      process.stderr.write(chain.length === 1 ? "agent-receipts: no command given\n" : "agent-receipts: no subcommand given\n");
      process.exitCode = EXIT_USAGE;
      return;
    }
    await rejectUnknownFlags(cmd, located.rest);
    await runCommand(cmd, { rawArgs: located.rest });
  } catch (err) {
    // An agent hook must never block the agent's tool call (Claude Code treats exit 2 as "block"):
    // even a usage error, such as a mistyped flag in its settings, is only a warning unless --strict.
    if (argv[0] === "hook" && !argv.includes("--strict") && (err instanceof UserError || (err instanceof Error && err.name === "CLIError"))) {
      process.stderr.write(`agent-receipts: warning: ${err.message}\n`);
      process.exitCode = 0;
      return;
    }
    if (err instanceof UserError) {
      if (err.exitCode === EXIT_USAGE && /unknown (command|option)/.test(err.message)) {
        process.stderr.write(`${await usageOf(chain)}\n`);
      }
      process.stderr.write(`agent-receipts: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof Error && err.name === "CLIError") {
      process.stderr.write(`${await usageOf(chain)}\nagent-receipts: ${err.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    process.stderr.write(`agent-receipts: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT_USAGE;
  }
}
