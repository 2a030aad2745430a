// What the dispatcher needs of a command beyond citty's definition.
import type { ArgsDef, CommandDef } from "citty";
import type { UsageError } from "../errors.ts";

export type CliCommand = CommandDef<ArgsDef> & {
  /** Lines after the options in --help (examples, exit codes). */
  footer?: string;
  /** Words after the options are the command's own (e.g. a program to run); otherwise extra words are an error. */
  acceptsRest?: boolean;
  /**
   * A command that must not fail on a bad command line (an agent hook) handles
   * the usage error itself and returns the exit code.
   */
  onUsageError?: (err: UsageError, argv: readonly string[]) => Promise<number> | number;
};

/**
 * A citty command definition as the dispatcher sees it, with its extras. The
 * one cast: `run` takes the command's own parsed-args type, which the
 * dispatcher builds from the same definitions.
 */
export function cliCommand<T extends ArgsDef>(def: CommandDef<T>, extras: Omit<CliCommand, keyof CommandDef<ArgsDef>> = {}): CliCommand {
  return Object.assign(def, extras) as unknown as CliCommand;
}
