import { defineCommand } from "citty";
import { colorEnabled, paint } from "../cli/color.ts";
import { cliCommand } from "../cli/command.ts";
import { EXIT_FAILURE } from "../errors.ts";
import { ReceiptReader } from "../query/reader.ts";
import { countOf, filterArgs, filterOf, formatArgs, formatOf, pathArgs } from "../read-cli/args.ts";
import { checkChainFilter } from "../read-cli/chain-check.ts";
import { Output, outputWidth, stdoutIsTerminal, untilOutputCloses } from "../read-cli/output.ts";
import { readerFiles } from "../read-cli/paths.ts";
import { jsonArray, jsonLines, ReceiptTable, severalChains } from "../read-cli/receipt-view.ts";
import { signatureChecks, verifyArgs } from "../read-cli/signatures.ts";

export const listCommand = cliCommand(defineCommand({
  meta: {
    name: "list",
    description:
      "List receipts, newest first, from the database opened read-only (works with the daemon running or stopped). " +
      "Filters combine; an empty result is not an error. With --verify, the signature of each receipt listed is checked too.",
  },
  args: {
    ...pathArgs,
    ...verifyArgs,
    ...filterArgs,
    limit: { type: "string", description: "At most this many receipts (default 50)", valueHint: "N" },
    reverse: { type: "boolean", description: "Oldest first: the first receipts that match instead of the newest" },
    ...formatArgs,
  },
  async run({ args, rawArgs }) {
    const filter = filterOf(args, new Date());
    const limit = countOf("--limit", args.limit, 50, 1);
    const format = formatOf(args);
    const files = readerFiles(args);
    // Only with --verify or --public-key; a key that cannot be read stops here, before any output.
    const sigs = signatureChecks(args, files);
    await untilOutputCloses(() => {
      const reader = new ReceiptReader(files.db);
      try {
        checkChainFilter(reader, filter, files.db);
        const receipts = reader.select(filter, { limit, oldestFirst: args.reverse === true });
        const problems = sigs?.check(receipts);
        const out = new Output();
        if (format === "json") out.write(jsonArray(receipts));
        else if (format === "jsonl") out.write(jsonLines(receipts));
        else if (receipts.length > 0) {
          const colors = paint(colorEnabled({ isTTY: stdoutIsTerminal(), env: process.env, noColorFlag: rawArgs.includes("--no-color") }));
          const table = new ReceiptTable(receipts, outputWidth(), colors, { chainColumn: severalChains(receipts), follow: false, signatures: sigs !== undefined });
          out.write(table.header() + table.rows(receipts, problems));
        } else if (stdoutIsTerminal()) {
          out.write("no receipts match\n");
        }
        out.flush();
        // The JSON stays the stored text: the failures are named on stderr.
        if (format !== "table" && problems !== undefined) sigs!.report(receipts, problems);
      } finally {
        reader.close();
      }
    });
    if (sigs !== undefined && sigs.failed > 0) process.exitCode = EXIT_FAILURE;
  },
}), {
  footer:
    "Examples: agent-receipts list --since 1h --risk high; agent-receipts list --tool 'mcp__*' --jsonl; " +
    "agent-receipts list --chain 2026-11-28 --status failure; agent-receipts list --verify --limit 1000. " +
    "Time: RFC 3339, a date, or 15m/2h/3d ago. " +
    "Exit 0 (also when nothing matches), 1 --verify found a receipt whose signature fails, 2 usage, unreadable database or public key.",
});
