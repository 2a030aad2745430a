import { defineCommand } from "citty";
import { writeFileSync } from "node:fs";
import { cliCommand } from "../cli/command.ts";
import { UserFacingError } from "../errors.ts";
import { buildProof } from "../log-cli/prove.ts";
import { openLog } from "../log-cli/open-log.ts";
import { ReceiptReader } from "../query/reader.ts";
import type { StoredReceipt } from "../query/record.ts";
import { pathArgs } from "../read-cli/args.ts";
import { readerFiles } from "../read-cli/paths.ts";
import { parseRef, resolveRef, type ReceiptRef } from "../read-cli/receipt-ref.ts";

/** An id or CHAIN:SEQ is one index lookup; the general resolver (which lists chains) only names what is missing. */
function find(reader: ReceiptReader, ref: ReceiptRef, db: string): StoredReceipt {
  const direct = ref.kind === "id" ? reader.byId(ref.id) : ref.kind === "position" ? reader.at(ref.chainId, ref.sequence) : null;
  return direct ?? resolveRef(reader, ref, db);
}

export const proveCommand = cliCommand(defineCommand({
  meta: {
    name: "prove",
    description:
      "Write a C2SP tlog-proof that one receipt is in the log: its leaf index, the inclusion proof and the newest checkpoint " +
      "(with any witness cosignatures). With the receipt itself it verifies offline, without the database: " +
      "agent-receipts verify --receipt R.json --proof P --public-key signing.key.pub [--witness VKEY]. Read-only.",
  },
  args: {
    ref: { type: "positional", required: true, description: "A receipt id (urn:receipt:<uuid>), a sequence number in the newest chain, or CHAIN:SEQ", valueHint: "REF" },
    ...pathArgs,
    out: { type: "string", description: "Write the proof to this file (mode 0644) instead of stdout", valueHint: "FILE" },
  },
  async run({ args }) {
    const ref = parseRef(args.ref);
    const files = readerFiles(args);
    const reader = new ReceiptReader(files.db);
    try {
      const tree = openLog(reader, files.db);
      const receipt = find(reader, ref, files.db);
      const hash = reader.db.query<{ receipt_hash: unknown }, [number]>("SELECT receipt_hash FROM receipts WHERE rowid = ?").get(receipt.rowid)?.receipt_hash;
      const proof = buildProof(tree, receipt, hash, files.db);
      if (args.out === undefined) {
        process.stdout.write(proof.text);
        return;
      }
      try {
        writeFileSync(args.out, proof.text, { mode: 0o644 });
      } catch (err) {
        throw new UserFacingError(`cannot write ${args.out}: ${(err as Error).message}`);
      }
      process.stderr.write(`wrote the proof of ${receipt.id} (leaf ${proof.index} of checkpoint size ${proof.size}, ${proof.cosignatures} cosignature(s)) to ${args.out}\n`);
    } finally {
      reader.close();
    }
  },
}), {
  footer:
    "Example: agent-receipts show 2026-11-28:42 --json > r.json && agent-receipts prove 2026-11-28:42 --out r.tlog-proof, then anywhere: " +
    "agent-receipts verify --receipt r.json --proof r.tlog-proof --public-key signing.key.pub. " +
    "Exit 0 written, 1 the receipt is not covered by a checkpoint yet or the log tables are damaged, 2 unknown receipt, no log, or usage.",
});
