import { defineCommand } from "citty";
import { colorEnabled, paint } from "../cli/color.ts";
import { cliCommand } from "../cli/command.ts";
import { EXIT_FAILURE, UserFacingError } from "../errors.ts";
import { ReceiptReader } from "../query/reader.ts";
import type { StoredReceipt } from "../query/record.ts";
import { countOf, filterArgs, filterOf, formatArgs, formatOf, pathArgs } from "../read-cli/args.ts";
import { checkChainFilter } from "../read-cli/chain-check.ts";
import { follow } from "../read-cli/follow.ts";
import { Output, outputWidth, stdoutIsTerminal, untilOutputCloses } from "../read-cli/output.ts";
import { readerFiles } from "../read-cli/paths.ts";
import { jsonArray, jsonLines, ReceiptTable, severalChains } from "../read-cli/receipt-view.ts";
import { signatureChecks, verifyArgs } from "../read-cli/signatures.ts";

/** Resolves on the first SIGINT or SIGTERM: the follower then stops and the command exits 0 (1 when --verify found a bad signature). */
function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve());
  });
}

export const tailCommand = cliCommand(defineCommand({
  meta: {
    name: "tail",
    description:
      "Print the newest receipts, oldest of them first, and with -f every receipt as it is committed. Same filters and formats as list; " +
      "read-only, and it keeps following across daemon restarts and chain advances. With --verify, the signature of each receipt printed is checked too.",
  },
  args: {
    ...pathArgs,
    ...verifyArgs,
    ...filterArgs,
    lines: { type: "string", alias: "n", description: "How many of the newest receipts to print first (default 10; 0 for none)", valueHint: "N" },
    follow: { type: "boolean", alias: "f", description: "Keep printing new receipts as they are committed (Ctrl-C to stop)" },
    ...formatArgs,
  },
  async run({ args, rawArgs }) {
    const filter = filterOf(args, new Date());
    const count = countOf("-n", args.lines, 10, 0);
    const format = formatOf(args);
    const following = args.follow === true;
    if (following && format === "json") throw new UserFacingError("--json prints one array and cannot follow: use --jsonl with --follow.");
    const files = readerFiles(args);
    // Only with --verify or --public-key; a key that cannot be read stops here, before any output.
    const sigs = signatureChecks(args, files);
    await untilOutputCloses(async () => {
      const reader = new ReceiptReader(files.db);
      try {
        // A chain that does not exist yet may still appear while following.
        if (!following) checkChainFilter(reader, filter, files.db);
        const after = reader.lastRowid();
        const newest = count === 0 ? [] : reader.select(filter, { limit: count }).reverse();
        const out = new Output();
        let print: (rows: StoredReceipt[]) => void;
        if (format === "table") {
          const colors = paint(colorEnabled({ isTTY: stdoutIsTerminal(), env: process.env, noColorFlag: rawArgs.includes("--no-color") }));
          const table = new ReceiptTable(newest, outputWidth(), colors, {
            chainColumn: following || severalChains(newest), follow: following, signatures: sigs !== undefined,
          });
          if (newest.length > 0 || following) out.write(table.header());
          print = (rows) => {
            out.write(table.rows(rows, sigs?.check(rows)));
            out.flush();
          };
        } else {
          print = (rows) => {
            const problems = sigs?.check(rows);
            out.write(format === "json" ? jsonArray(rows) : jsonLines(rows));
            out.flush();
            // The JSON stays the stored text: the failures are named on stderr, after the lines they concern.
            if (problems !== undefined) sigs!.report(rows, problems);
          };
        }
        print(newest);
        if (!following) return;
        await follow({
          reader, filter, stopped: stopSignal(),
          after: Math.max(after, ...newest.map((r) => r.rowid)),
          print,
          warn: (message) => process.stderr.write(`agent-receipts: ${message}\n`),
        });
      } finally {
        reader.close();
      }
    });
    // A followed stream keeps printing after a failure; the exit status says it at the end.
    if (sigs !== undefined && sigs.failed > 0) process.exitCode = EXIT_FAILURE;
  },
}), {
  footer:
    "Examples: agent-receipts tail -n 20; agent-receipts tail -f --risk high; agent-receipts tail -f --jsonl | jq .id. " +
    "agent-receipts tail -f --verify (a SIG column: ok or BAD). " +
    "Exit 0 (also on Ctrl-C and when the reading end of a pipe closes), 1 --verify found a receipt whose signature fails " +
    "(-f keeps following, and exits 1 when stopped), 2 usage, unreadable database or public key.",
});
