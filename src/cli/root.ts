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
  approve: { summary: "Approve a tool call an mcp-proxy policy paused (or list them)", load: () => import("../commands/approve.ts").then((m) => m.approveCommand) },
  backup: { summary: "Copy the database safely, even while the daemon runs", load: () => import("../commands/backup.ts").then((m) => m.backupCommand) },
  checkpoint: { summary: "Print the newest signed checkpoint of the log, with witness cosignatures", load: () => import("../commands/checkpoint.ts").then((m) => m.checkpointCommand) },
  daemon: { summary: "Run the signing daemon on the Unix socket", load: () => import("../commands/daemon.ts").then((m) => m.daemonCommand) },
  deny: { summary: "Deny a tool call an mcp-proxy policy paused", load: () => import("../commands/deny.ts").then((m) => m.denyCommand) },
  doctor: { summary: "Check the whole setup and say how to fix what is wrong", load: () => import("../commands/doctor.ts").then((m) => m.doctorCommand) },
  emit: { summary: "Send events to the daemon from the shell", load: () => import("../commands/emit.ts").then((m) => m.emitCommand) },
  export: { summary: "Export receipts as JSON Lines (and a folder to verify offline)", load: () => import("../commands/export.ts").then((m) => m.exportCommand) },
  hook: { summary: "Agent hooks (Claude Code) that record every tool call", load: () => import("../commands/hook.ts").then((m) => m.hookCommand) },
  keys: { summary: "Create or show the daemon's signing key", load: () => import("../commands/keys.ts").then((m) => m.keysCommand) },
  list: { summary: "List receipts, newest first, with filters (read-only)", load: () => import("../commands/list.ts").then((m) => m.listCommand) },
  "mcp-proxy": { summary: "Relay an MCP server (stdio) and record every tool call", load: () => import("../commands/mcp-proxy.ts").then((m) => m.mcpProxyCommand) },
  prove: { summary: "Write an offline-verifiable proof that one receipt is in the log", load: () => import("../commands/prove.ts").then((m) => m.proveCommand) },
  service: { summary: "Install the daemon as a systemd or launchd service", load: () => import("../commands/service.ts").then((m) => m.serviceCommand) },
  show: { summary: "Show one receipt with its signature and link checked (read-only)", load: () => import("../commands/show.ts").then((m) => m.showCommand) },
  status: { summary: "Show the daemon's state, the chain head and receipt counts", load: () => import("../commands/status.ts").then((m) => m.statusCommand) },
  tail: { summary: "Print the newest receipts and, with -f, each new one as it is committed", load: () => import("../commands/tail.ts").then((m) => m.tailCommand) },
  verify: { summary: "Verify receipt chains offline with the public key", load: () => import("../commands/verify.ts").then((m) => m.verifyCommand) },
  witness: { summary: "Run a witness that cosigns the daemon's checkpoints (C2SP tlog-witness)", load: () => import("../commands/witness.ts").then((m) => m.witnessCommand) },
};
