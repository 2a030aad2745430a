import { defineCommand } from "citty";
import { colorEnabled, paint } from "../cli/color.ts";
import { cliCommand } from "../cli/command.ts";
import { ReceiptReader } from "../query/reader.ts";
import { countOf, filterArgs, filterOf, formatArgs, formatOf, pathArgs } from "../read-cli/args.ts";
import { checkChainFilter } from "../read-cli/chain-check.ts";
import { Output, outputWidth, stdoutIsTerminal, untilOutputCloses } from "../read-cli/output.ts";
import { readerFiles } from "../read-cli/paths.ts";
import { jsonArray, jsonLines, ReceiptTable, severalChains } from "../read-cli/receipt-view.ts";

export const listCommand = cliCommand(defineCommand({
  meta: {
    name: "list",
    description:
      "List receipts, newest first, from the database opened read-only (works with the daemon running or stopped). " +
      "Filters combine; an empty result is not an error.",
  },
  args: {
    ...pathArgs,
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
    await untilOutputCloses(() => {
      const reader = new ReceiptReader(files.db);
      try {
        checkChainFilter(reader, filter, files.db);
        const receipts = reader.select(filter, { limit, oldestFirst: args.reverse === true });
        const out = new Output();
        if (format === "json") out.write(jsonArray(receipts));
        else if (format === "jsonl") out.write(jsonLines(receipts));
        else if (receipts.length > 0) {
          const colors = paint(colorEnabled({ isTTY: stdoutIsTerminal(), env: process.env, noColorFlag: rawArgs.includes("--no-color") }));
          const table = new ReceiptTable(receipts, outputWidth(), colors, { chainColumn: severalChains(receipts), follow: false });
          out.write(table.header() + table.rows(receipts));
        } else if (stdoutIsTerminal()) {
          out.write("no receipts match\n");
        }
        out.flush();
      } finally {
        reader.close();
      }
    });
  },
}), {
  footer:
    "Examples: agent-receipts list --since 1h --risk high; agent-receipts list --tool 'mcp__*' --jsonl; " +
    "agent-receipts list --chain 2026-11-28 --status failure. Time: RFC 3339, a date, or 15m/2h/3d ago. " +
    "Exit 0 (also when nothing matches), 2 usage or unreadable database.",
});
