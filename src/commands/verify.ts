import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { EXIT_FAILURE, EXIT_OK, UserError } from "../cli/errors.ts";
import { resolvePaths } from "../paths/resolve.ts";
import { formatHuman, formatJson, keyMismatchMessage } from "../verify/report.ts";
import { runVerify } from "../verify/run.ts";

export const verifyCommand = cliCommand(defineCommand({
  meta: {
    name: "verify",
    description:
      "Verify receipt chains offline with the public key: signatures, hash links, sequence, chain ids and terminators. " +
      "Also checks each row's index columns against its signed receipt, and warns (without failing) of chains without terminator, " +
      "retries (receipts sharing an idempotency key) and events the emitters reported lost. An empty database or file is nothing to verify (exit 0). " +
      "Works while the daemon is stopped. Exit 0 all valid, 1 any chain broken, 2 usage or I/O problem or a key that verifies no receipt of a chain.",
  },
  args: {
    db: { type: "string", description: "Database to read (default: $AGENTRECEIPTS_DB or <data dir>/receipts.db)", valueHint: "PATH" },
    "public-key": { type: "string", description: "Ed25519 SPKI PEM public key (default: $AGENTRECEIPTS_PUBLIC_KEY or <key>.pub)", valueHint: "PATH" },
    chain: { type: "string", description: "Verify only this chain (default: every chain in the database)", valueHint: "ID" },
    file: { type: "string", description: "Verify a JSON Lines file of receipts (one chain) instead of a database", valueHint: "FILE" },
    json: { type: "boolean", description: "Print one machine-readable JSON object" },
  },
  async run({ args }) {
    const paths = resolvePaths();
    if (args.db !== undefined && args.file !== undefined) throw new UserError("--db and --file are exclusive: verify a database or a file");
    const report = await runVerify({
      publicKeyPath: args["public-key"] ?? paths.publicKey,
      db: args.db ?? paths.db,
      file: args.file,
      chain: args.chain,
    });
    process.stdout.write(args.json ? formatJson(report) : formatHuman(report));
    // A key that verifies not one receipt of a chain is a wrong argument (exit 2), not evidence of tampering.
    const wrongKey = keyMismatchMessage(report);
    if (wrongKey !== null) throw new UserError(wrongKey);
    process.exitCode = report.valid ? EXIT_OK : EXIT_FAILURE;
  },
}));
