import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { EXIT_FAILURE, EXIT_OK, UserFacingError } from "../errors.ts";
import { resolvePaths } from "../paths/resolve.ts";
import { formatHuman, formatJson, keyMismatchMessage, toJson } from "../verify/report.ts";
import { runVerify } from "../verify/run.ts";
import { loadPublicKey } from "../keys/key-files.ts";
import { logJson, withLog } from "../verify/log-report.ts";
import { externalNotes, policyOf, runLogCheck } from "../verify/log-run.ts";
import { checkProof, formatProofCheck } from "../verify/proof-check.ts";
import { checkFileProofs, fileProofsJson, formatFileProofs } from "../verify/file-proofs.ts";

export const verifyCommand = cliCommand(defineCommand({
  meta: {
    name: "verify",
    description:
      "Verify receipt chains offline with the public key: signatures, hash links, sequence, chain ids and terminators. " +
      "Also checks each row's index columns against its signed receipt, and warns (without failing) of chains without terminator, " +
      "retries (receipts sharing an idempotency key) and events the emitters reported lost. An empty database or file is nothing to verify (exit 0). " +
      "With a database it also checks the transparency log: the Merkle tree against the receipts in commit order, and every stored checkpoint's " +
      "signature and root; --checkpoint and --witness hold it against checkpoints kept elsewhere (TRUNCATED or FORKED when it falls short). " +
      "Works while the daemon is stopped. Exit 0 all valid, 1 any chain broken or the log TRUNCATED, FORKED or broken, 2 usage or I/O problem or a key that verifies no receipt of a chain.",
  },
  args: {
    db: { type: "string", description: "Database to read (default: $AGENTRECEIPTS_DB or <data dir>/receipts.db)", valueHint: "PATH" },
    "public-key": { type: "string", description: "Ed25519 SPKI PEM public key (default: $AGENTRECEIPTS_PUBLIC_KEY or <key>.pub)", valueHint: "PATH" },
    chain: { type: "string", description: "Verify only this chain (default: every chain in the database)", valueHint: "ID" },
    file: { type: "string", description: "Verify a JSON Lines file of receipts (chain after chain; a chain that starts mid-way is a segment) instead of a database", valueHint: "FILE" },
    checkpoint: { type: "string", description: "A checkpoint kept elsewhere (from agent-receipts checkpoint, log.checkpoint or a file: anchor): the database must hold a log consistent with it, else TRUNCATED or FORKED", valueHint: "FILE" },
    witness: { type: "string", description: "Witness verifier keys (comma-separated, or files of them): count their cosignatures on the checkpoints", valueHint: "VKEY,..." },
    quorum: { type: "string", description: "Cosignatures a checkpoint needs from the --witness keys (default: all of them)", valueHint: "K" },
    receipt: { type: "string", description: "With --proof: verify one receipt (from show REF --json) offline, without a database", valueHint: "FILE" },
    proof: { type: "string", description: "With --receipt: its tlog proof (from agent-receipts prove)", valueHint: "FILE" },
    proofs: { type: "string", description: "With --file and --checkpoint: the export's log.proofs, one inclusion proof per receipt line", valueHint: "FILE" },
    json: { type: "boolean", description: "Print one machine-readable JSON object" },
  },
  async run({ args }) {
    const paths = resolvePaths();
    if (args.db !== undefined && args.file !== undefined) throw new UserFacingError("--db and --file are exclusive: verify a database or a file");
    const publicKeyPath = args["public-key"] ?? paths.publicKey;
    const policy = policyOf(args.witness, args.quorum);
    if (args.receipt !== undefined || args.proof !== undefined) {
      if (args.receipt === undefined || args.proof === undefined) throw new UserFacingError("--receipt and --proof go together: the receipt (show REF --json) and its proof (prove REF)");
      const extra = ["db", "file", "chain", "checkpoint"].filter((k) => (args as Record<string, unknown>)[k] !== undefined);
      if (extra.length > 0) throw new UserFacingError(`--receipt/--proof verify one receipt without a database; leave out ${extra.map((k) => `--${k}`).join(", ")}`);
      const result = checkProof(args.receipt, args.proof, loadPublicKey(publicKeyPath).publicKey, policy);
      process.stdout.write(args.json ? `${JSON.stringify({ valid: result.valid, receipt_id: result.receiptId, index: result.index, origin: result.origin, size: result.size, root: result.root, witnesses: result.witnesses, quorum: result.quorum, problem: result.problem ?? null }, null, 2)}\n` : formatProofCheck(result));
      process.exitCode = result.valid ? EXIT_OK : EXIT_FAILURE;
      return;
    }
    if (args.proofs !== undefined && (args.file === undefined || args.checkpoint === undefined)) {
      throw new UserFacingError("--proofs goes with --file and --checkpoint: the receipts.jsonl, log.proofs and log.checkpoint of an export --with-key folder");
    }
    if (args.file !== undefined && args.proofs === undefined && (args.checkpoint !== undefined || policy !== null)) {
      throw new UserFacingError("a --file has no log of its own: give its --proofs (log.proofs of an export folder) with --checkpoint, or check a database");
    }
    const external = externalNotes(args.checkpoint);
    const report = await runVerify({
      publicKeyPath: args["public-key"] ?? paths.publicKey,
      db: args.db ?? paths.db,
      file: args.file,
      chain: args.chain,
    });
    const fileProofs = args.file !== undefined && args.proofs !== undefined
      ? await checkFileProofs(args.file, args.proofs, external, loadPublicKey(publicKeyPath).publicKey, policy)
      : null;
    const log = args.file === undefined ? runLogCheck(args.db ?? paths.db, loadPublicKey(publicKeyPath).publicKey, external, policy) : null;
    const logOk = log === null || log.verdict === "ok" || log.verdict === "absent";
    if (fileProofs !== null) {
      const valid = report.valid && fileProofs.valid;
      process.stdout.write(args.json ? `${JSON.stringify({ ...toJson(report), valid, log_proofs: fileProofsJson(fileProofs) }, null, 2)}\n` : formatHuman(report) + formatFileProofs(fileProofs));
    } else if (args.json) {
      process.stdout.write(log === null ? formatJson(report) : `${JSON.stringify({ ...toJson(report), valid: report.valid && logOk, log: logJson(log) }, null, 2)}\n`);
    } else {
      process.stdout.write(log === null ? formatHuman(report) : withLog(formatHuman(report), log));
    }
    // A key that verifies not one receipt of a chain is a wrong argument (exit 2), not evidence of tampering.
    const wrongKey = keyMismatchMessage(report);
    if (wrongKey !== null) throw new UserFacingError(wrongKey);
    process.exitCode = report.valid && logOk && (fileProofs?.valid ?? true) ? EXIT_OK : EXIT_FAILURE;
  },
}));
