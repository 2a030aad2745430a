import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { runBackup } from "../backup/run.ts";
import { resolvePaths } from "../paths/resolve.ts";

export const backupCommand = cliCommand(defineCommand({
  meta: {
    name: "backup",
    description:
      "Copy the database to a new file, consistently, while the daemon runs or not (SQLite VACUUM INTO from a read-only connection), " +
      "verify the copy with the public key, and only then put it at --out. Never overwrites. " +
      "Exit 0 copied and verified, 1 the source itself does not verify (the copy is kept), 2 usage or I/O problem.",
  },
  args: {
    out: { type: "string", required: true, description: "The copy to create (must not exist; its directory must)", valueHint: "FILE" },
    db: { type: "string", description: "Database to copy (default: $AGENTRECEIPTS_DB or <data dir>/receipts.db)", valueHint: "PATH" },
    "public-key": { type: "string", description: "Ed25519 SPKI PEM public key to verify the copy (default: $AGENTRECEIPTS_PUBLIC_KEY or <key>.pub)", valueHint: "PATH" },
    json: { type: "boolean", description: "Print one machine-readable JSON object" },
  },
  async run({ args }) {
    // The copy is evidence like the database: 0640, never briefly readable by others.
    process.umask(0o027);
    const paths = resolvePaths();
    const publicKeyPath = args["public-key"] ?? paths.publicKey;
    const r = await runBackup({ db: args.db ?? paths.db, out: args.out, publicKeyPath });
    const key = r.verify.publicKey;
    process.stdout.write(
      args.json
        ? `${JSON.stringify({
          source: r.source, out: r.out, valid: true, chains: r.chains, receipts: r.receipts,
          public_key: { path: key.path, fingerprint: key.fingerprint },
        })}\n`
        : `copied ${r.source} to ${r.out}: ${r.chains} chain(s), ${r.receipts} receipt(s), verified with key ${key.fingerprint}\n` +
          `keep the public key with it: cp ${key.path} ${r.out}.pub\n`,
    );
  },
}), {
  footer: "The copy is one file (no -wal); restore it while the daemon is stopped (docs/operations.md, Backup and restore).",
});
