// The command table. Each command's module is imported only when that command
// runs (or its --help is asked for), so `emit` and `hook` never load the
// daemon, the verifier, SQLite or FFI; the summaries here spare `--help` that too.
import type { CliCommand } from "./command.ts";

export interface CommandEntry {
  summary: string;
  load(): Promise<CliCommand>;
}

export const ROOT_DESCRIPTION = "Signed, hash-chained receipts for every tool call an AI agent makes.";

export const COMMANDS: Record<string, CommandEntry> = {
  daemon: { summary: "Run the signing daemon on the Unix socket", load: () => import("../commands/daemon.ts").then((m) => m.daemonCommand) },
  emit: { summary: "Send events to the daemon from the shell", load: () => import("../commands/emit.ts").then((m) => m.emitCommand) },
  hook: { summary: "Agent hooks (Claude Code) that record every tool call", load: () => import("../commands/hook.ts").then((m) => m.hookCommand) },
  keys: { summary: "Create or show the daemon's signing key", load: () => import("../commands/keys.ts").then((m) => m.keysCommand) },
  service: { summary: "Install the daemon as a systemd or launchd service", load: () => import("../commands/service.ts").then((m) => m.serviceCommand) },
  verify: { summary: "Verify receipt chains offline with the public key", load: () => import("../commands/verify.ts").then((m) => m.verifyCommand) },
};
