import { defineCommand } from "citty";
import { colorEnabled, paint } from "../cli/color.ts";
import { cliCommand } from "../cli/command.ts";
import { EXIT_FAILURE, EXIT_OK } from "../errors.ts";
import { readerArgs } from "../status/args.ts";
import { gatherStatus } from "../status/report.ts";
import { renderStatus } from "../status/render.ts";

export const statusCommand = cliCommand(defineCommand({
  meta: {
    name: "status",
    description:
      "Show whether the daemon runs and this shell can reach it (and if not, why), the chain head, receipt counts, " +
      "events_dropped receipts, database size and key fingerprint. Read-only. Exit 0 running and reachable, 1 not, 2 usage.",
  },
  args: readerArgs,
  async run({ args }) {
    const status = await gatherStatus({ db: args.db, publicKey: args["public-key"], config: args.config, socket: args.socket });
    const colors = paint(colorEnabled({ isTTY: process.stdout.isTTY === true, env: process.env, noColorFlag: process.argv.includes("--no-color") }));
    process.stdout.write(args.json ? `${JSON.stringify(status)}\n` : renderStatus(status, colors));
    process.exitCode = status.running && status.reachable ? EXIT_OK : EXIT_FAILURE;
  },
}), {
  footer: "Troubleshooting: run agent-receipts doctor for every check with its fix.",
});
