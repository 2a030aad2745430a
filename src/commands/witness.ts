import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { cliCommand } from "../cli/command.ts";
import { UserFacingError } from "../errors.ts";
import { createLogger } from "../daemon/log.ts";
import { createWitnessKey, defaultWitnessName, loadWitnessKey, readWitnessVkey, witnessVkeyPath } from "../witness/key.ts";
import { LogKeyError, trustedLogs } from "../witness/logs.ts";
import { ListenAddressError, parseListen } from "../witness/server.ts";
import { serveWitness } from "../witness/run.ts";

/** vkeys from --log (comma- or space-separated), the words after it, and --log-file (one per line, # comments). */
function logVkeys(log: string | undefined, rest: readonly string[], file: string | undefined): string[] {
  const keys = [...(log ?? "").split(/[,\s]+/), ...rest];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new UserFacingError(`cannot read --log-file ${file}: ${(err as Error).message}`);
    }
    keys.push(...text.split("\n").map((l) => l.replace(/#.*/, "").trim()));
  }
  return keys.filter((k) => k !== "");
}

const serveCommand = cliCommand(defineCommand({
  meta: {
    name: "serve",
    description:
      "Run a C2SP tlog-witness: cosign each checkpoint of the trusted logs that is consistent with the last one it cosigned " +
      "(POST /add-checkpoint), and serve the latest (GET /<sha256(origin) hex>/checkpoint). Its own key and database; stops on SIGTERM/SIGINT.",
  },
  args: {
    listen: { type: "string", required: true, description: "Address to listen on, HOST:PORT (port 0: any free port, printed at start)", valueHint: "ADDR" },
    db: { type: "string", required: true, description: "The witness's own SQLite database (created when absent)", valueHint: "FILE" },
    key: { type: "string", required: true, description: "The witness's Ed25519 key (from `witness keys init`), mode 0600", valueHint: "FILE" },
    vkey: { type: "string", description: "Its verifier key file (default: <key>.vkey)", valueHint: "FILE" },
    log: { type: "string", description: "Verifier key(s) of the log(s) to witness; more may follow as words (the daemon publishes its vkey beside its public key)", valueHint: "VKEY..." },
    "log-file": { type: "string", description: "A file of log verifier keys, one per line", valueHint: "FILE" },
    "log-format": { type: "enum", options: ["text", "json"], description: "Log lines on stderr: text or json (default: text)", valueHint: "text|json" },
  },
  async run({ args }) {
    let listen;
    let logs;
    try {
      listen = parseListen(args.listen);
      const vkeys = logVkeys(args.log, args._, args["log-file"]);
      if (vkeys.length === 0) throw new UserFacingError("no log to witness: pass --log VKEY (the vkey file the daemon publishes beside its public key)");
      logs = trustedLogs(vkeys);
    } catch (err) {
      if (err instanceof ListenAddressError || err instanceof LogKeyError) throw new UserFacingError(err.message);
      throw err;
    }
    const key = loadWitnessKey(args.key, args.vkey ?? witnessVkeyPath(args.key));
    const log = createLogger(args["log-format"] === "json" ? "json" : "text");
    process.exitCode = await serveWitness({ listen, db: args.db, key, logs, log });
  },
}), {
  acceptsRest: true,
  footer:
    "Example: agent-receipts witness serve --listen 127.0.0.1:7380 --db witness.db --key witness.key --log LOG_VKEY, where LOG_VKEY is the vkey the daemon publishes beside its public key. " +
    "Exit 0 after SIGTERM/SIGINT, 2 for bad options, an unusable key or database, or an address in use.",
});

const keyArgs = {
  key: { type: "string", required: true, description: "The witness's private key file", valueHint: "FILE" },
  vkey: { type: "string", description: "Its verifier key file (default: <key>.vkey)", valueHint: "FILE" },
  json: { type: "boolean", description: "Print JSON" },
} as const;

const initCommand = defineCommand({
  meta: { name: "init", description: "Create the witness's Ed25519 key (0600) and its cosignature/v1 verifier key (<key>.vkey, 0644). Never overwrites." },
  args: {
    ...keyArgs,
    name: { type: "string", description: `The witness's name in its cosignatures (default: ${defaultWitnessName()})`, valueHint: "NAME" },
  },
  run({ args }) {
    const vkeyPath = args.vkey ?? witnessVkeyPath(args.key);
    process.umask(0o027);
    const vkey = createWitnessKey(args.key, vkeyPath, args.name ?? defaultWitnessName());
    process.stdout.write(
      args.json
        ? `${JSON.stringify({ key: args.key, vkey_file: vkeyPath, vkey })}\n`
        : `created witness key ${args.key}\npublished verifier key ${vkeyPath}\n${vkey}\n`,
    );
  },
});

const showCommand = defineCommand({
  meta: { name: "show", description: "Print the witness's verifier key (give it to the daemon's witness anchor and to verifiers)." },
  args: keyArgs,
  run({ args }) {
    const vkeyPath = args.vkey ?? witnessVkeyPath(args.key);
    const vkey = readWitnessVkey(vkeyPath);
    process.stdout.write(args.json ? `${JSON.stringify({ vkey_file: vkeyPath, vkey })}\n` : `${vkey}\n`);
  },
});

export const witnessCommand = cliCommand(defineCommand({
  meta: { name: "witness", description: "Run a witness that cosigns the daemon's checkpoints (C2SP tlog-witness)" },
  subCommands: {
    serve: serveCommand,
    keys: defineCommand({ meta: { name: "keys", description: "Create or show the witness's key" }, subCommands: { init: initCommand, show: showCommand } }),
  },
}));
