import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { UserFacingError } from "../errors.ts";
import { checkValue, resolveConfig, splitList, type ConfigInput, type DaemonConfig } from "../daemon/config.ts";
import { runDaemon } from "../daemon/daemon.ts";
import { createLogger } from "../daemon/log.ts";
import { VERSION } from "../version.ts";
import { DEFAULT_MAX_AGENT_CHAINS, defaultMaxBufferedBytes } from "../daemon/limits.ts";

export const PROTOCOL_VERSION = { frame_version: { min: 1, max: 1 } };

const UNSET_MEANS: Record<string, string> = {
  max_buffered_bytes: `(sized for this machine: ${defaultMaxBufferedBytes()})`,
  max_agent_chains: `(${DEFAULT_MAX_AGENT_CHAINS})`,
  chain_id: "(UTC date at start)",
  socket_group: "(the daemon's own group)",
  log_origin: "(<host name>/agent-receipts/<first 16 hex digits of the key fingerprint>)",
};

function printConfig(config: DaemonConfig): string {
  const lines = [`# effective configuration (defaults < ${config.config_file ?? "no config file"} < environment < flags)`];
  for (const [k, v] of Object.entries(config)) {
    if (k === "config_file") continue;
    if (v === undefined) lines.push(`# ${k} = ${UNSET_MEANS[k] ?? "(unset)"}`);
    else lines.push(`${k} = ${JSON.stringify(v)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** A start-up error as the operator needs it: permission problems name the path, the daemon's uid and the fix. */
function startFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if ((e.code === "EACCES" || e.code === "EPERM") && typeof e.path === "string") {
    return `permission denied on ${e.path} (${e.syscall ?? "access"}): the daemon runs as uid ${process.getuid?.()} gid ${process.getgid?.()}. ` +
      "Check the owner and mode of that file and of every directory above it (docs/operations.md lists them).";
  }
  return e instanceof Error ? e.message : String(err);
}

export const daemonCommand = cliCommand(defineCommand({
  meta: {
    name: "daemon",
    description:
      "Run the signing daemon: listen on the Unix socket, attest each sender from the kernel, and turn every frame into a signed, " +
      "hash-chained receipt in SQLite. Creates the signing key on a fresh install. Stops cleanly on SIGTERM/SIGINT.",
  },
  args: {
    config: { type: "string", description: "TOML config file (default: $AGENTRECEIPTS_CONFIG or <data dir>/daemon.toml if present)", valueHint: "PATH" },
    socket: { type: "string", description: "Unix socket to listen on (default: $AGENTRECEIPTS_SOCKET or the platform default)", valueHint: "PATH" },
    db: { type: "string", description: "SQLite database (default: <data dir>/receipts.db)", valueHint: "PATH" },
    key: { type: "string", description: "Ed25519 signing key, PKCS#8 PEM, mode 0600 (default: <data dir>/signing.key)", valueHint: "PATH" },
    "public-key": { type: "string", description: "Where the public key is published (default: <key>.pub)", valueHint: "PATH" },
    "chain-id": { type: "string", description: "Root chain id (default: the UTC date at start; continues as ID-2, ID-3 after a terminator)", valueHint: "ID" },
    "issuer-id": { type: "string", description: "issuer.id of every receipt (default: did:agent-receipts-daemon:local)", valueHint: "DID" },
    "verification-method": { type: "string", description: "proof.verificationMethod (default: <issuer>#k1)", valueHint: "URI" },
    "allow-uids": { type: "string", description: "Also accept these users (uids or logins, comma-separated); root and the daemon's own uid are always accepted", valueHint: "LIST" },
    "allow-groups": { type: "string", description: "Also accept members of these groups (gids or names, comma-separated)", valueHint: "LIST" },
    "socket-group": { type: "string", description: "Group given to the socket (0660) and its directory, so its members can connect", valueHint: "GROUP" },
    "max-buffered-bytes": { type: "string", description: "Bytes held for incomplete frames across all connections; past it the largest are closed (default: 1/64 of memory, 16-64 MiB)", valueHint: "BYTES" },
    "max-agent-chains": { type: "string", description: `Sub-agent chains open at once; the least recently used is closed with a terminator (default: ${DEFAULT_MAX_AGENT_CHAINS})`, valueHint: "N" },
    "log-origin": { type: "string", description: "Origin of the checkpoints and name of the log's note key (default: <host>/agent-receipts/<key fingerprint prefix>)", valueHint: "NAME" },
    "checkpoint-every": { type: "string", description: "Sign a checkpoint at least every N receipts (default: 1000)", valueHint: "N" },
    "checkpoint-interval": { type: "string", description: "...or this long after the first receipt no checkpoint covers (default: 10s)", valueHint: "SECONDS" },
    "unsafe-socket-path": { type: "boolean", description: "Allow a socket path outside the safe roots (logs a warning every minute)" },
    "log-format": { type: "string", description: "Log lines on stderr: text or json (default: text)", valueHint: "text|json" },
    "print-config": { type: "boolean", description: "Print the effective configuration and exit" },
    "protocol-version": { type: "boolean", description: "Print the supported frame versions as JSON and exit" },
  },
  async run({ args }) {
    if (args["protocol-version"]) {
      process.stdout.write(`${JSON.stringify(PROTOCOL_VERSION)}\n`);
      return;
    }
    const flags: ConfigInput = {
      socket: args.socket,
      db: args.db,
      key: args.key,
      public_key: args["public-key"],
      chain_id: args["chain-id"],
      issuer_id: args["issuer-id"],
      verification_method: args["verification-method"],
      unsafe_socket_path: args["unsafe-socket-path"] === true ? true : undefined,
    };
    if (args["log-format"] !== undefined) {
      if (args["log-format"] !== "text" && args["log-format"] !== "json") throw new UserFacingError(`--log-format must be "text" or "json", not "${args["log-format"]}"`);
      flags.log_format = args["log-format"];
    }
    if (args["allow-uids"] !== undefined) Object.assign(flags, checkValue("allow_uids", splitList(args["allow-uids"]), "--allow-uids"));
    if (args["allow-groups"] !== undefined) Object.assign(flags, checkValue("allow_groups", splitList(args["allow-groups"]), "--allow-groups"));
    if (args["socket-group"] !== undefined) Object.assign(flags, checkValue("socket_group", args["socket-group"], "--socket-group"));
    if (args["max-buffered-bytes"] !== undefined) Object.assign(flags, checkValue("max_buffered_bytes", args["max-buffered-bytes"], "--max-buffered-bytes"));
    if (args["max-agent-chains"] !== undefined) Object.assign(flags, checkValue("max_agent_chains", args["max-agent-chains"], "--max-agent-chains"));
    if (args["log-origin"] !== undefined) Object.assign(flags, checkValue("log_origin", args["log-origin"], "--log-origin"));
    if (args["checkpoint-every"] !== undefined) Object.assign(flags, checkValue("checkpoint_every", args["checkpoint-every"], "--checkpoint-every"));
    if (args["checkpoint-interval"] !== undefined) Object.assign(flags, checkValue("checkpoint_interval", args["checkpoint-interval"], "--checkpoint-interval"));
    const config = resolveConfig(flags, args.config);
    if (args["print-config"]) {
      process.stdout.write(printConfig(config));
      return;
    }
    const log = createLogger(config.log_format);
    try {
      process.exitCode = await runDaemon({ config, log });
    } catch (err) {
      log.error("start_failed", { error: startFailure(err) });
      process.exitCode = 2;
    }
    // Worker threads and timers must not keep a stopped daemon alive.
    process.exit(process.exitCode);
  },
}));
