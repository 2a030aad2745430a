import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { EXIT_FAILURE, UserFacingError } from "../errors.ts";
import { cosignedNote, openLog } from "../log-cli/open-log.ts";
import { ReceiptReader } from "../query/reader.ts";
import { pathArgs } from "../read-cli/args.ts";
import { readerFiles } from "../read-cli/paths.ts";
import { encodeBase64 } from "../tlog/note.ts";

/** `checkpoint --json`: a stable interface, snake_case, fields only added. */
export interface CheckpointJson {
  origin: string;
  size: number;
  root: string;
  created_at: string;
  /** The signed note with the cosignature lines, exactly as verify --checkpoint reads it. */
  note: string;
  cosignatures: Array<{ key_name: string; key_id: string; line: string; anchor: string; received_at: string }>;
  /** Leaves in the database's tree now; tree_size - size receipts came after this checkpoint. */
  tree_size: number;
}

export const checkpointCommand = cliCommand(defineCommand({
  meta: {
    name: "checkpoint",
    description:
      "Print the newest checkpoint of the transparency log (a C2SP signed note: origin, tree size, root hash) with the cosignatures " +
      "witnesses returned. Keep a copy outside the machine: verify --checkpoint FILE then proves that no receipt it covers was removed or changed. Read-only.",
  },
  args: {
    ...pathArgs,
    json: { type: "boolean", description: "Print one JSON object (origin, size, root, note, cosignatures, tree_size)" },
  },
  async run({ args }) {
    const files = readerFiles(args);
    const reader = new ReceiptReader(files.db);
    try {
      const tree = openLog(reader, files.db);
      const out = tree.snapshot(() => {
        const latest = tree.latestCheckpoint();
        if (latest === null) {
          throw new UserFacingError(
            `database ${files.db} has no checkpoint yet: the daemon signs one every checkpoint_every receipts (default 1000) or checkpoint_interval (default 10 s) after a receipt, and when it stops.`,
            EXIT_FAILURE,
          );
        }
        const note = cosignedNote(tree, latest.size, latest.note);
        if (!args.json) return note;
        const json: CheckpointJson = {
          origin: latest.note.slice(0, latest.note.indexOf("\n")),
          size: latest.size,
          root: encodeBase64(latest.root),
          created_at: latest.createdAt,
          note,
          cosignatures: tree.cosignatures(latest.size).map((c) => ({ key_name: c.keyName, key_id: c.keyId, line: c.line, anchor: c.anchor, received_at: c.receivedAt })),
          tree_size: tree.size,
        };
        return `${JSON.stringify(json, null, 2)}\n`;
      });
      process.stdout.write(out);
    } finally {
      reader.close();
    }
  },
}), {
  footer:
    "Example: agent-receipts checkpoint > /mnt/audit/checkpoint-$(date +%F); later: agent-receipts verify --checkpoint /mnt/audit/checkpoint-2026-11-28. " +
    "Exit 0 printed, 1 no checkpoint yet, 2 no log in the database or usage.",
});
