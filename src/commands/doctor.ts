import { defineCommand } from "citty";
import { colorEnabled, paint } from "../cli/color.ts";
import { cliCommand } from "../cli/command.ts";
import { EXIT_FAILURE, EXIT_OK } from "../errors.ts";
import { renderDoctor } from "../doctor/render.ts";
import { runDoctor } from "../doctor/run.ts";
import { readerArgs } from "../status/args.ts";

export const doctorCommand = cliCommand(defineCommand({
  meta: {
    name: "doctor",
    description:
      "Run every check (daemon, socket path and access, keys, database, chain, disk space, clock, Claude Code hook) " +
      "and print one line each, ok / warn / fail, with the fix. Exit 0 when nothing fails, 1 otherwise, 2 usage.",
  },
  args: {
    ...readerArgs,
    full: { type: "boolean", description: "Verify every receipt (default: the newest 1,000)" },
    "round-trip": { type: "boolean", description: "Send one probe event (channel doctor) and wait until its receipt is committed and readable" },
  },
  async run({ args }) {
    const report = await runDoctor({
      db: args.db, publicKey: args["public-key"], config: args.config, socket: args.socket,
      full: args.full === true, roundTrip: args["round-trip"] === true,
    });
    const colors = paint(colorEnabled({ isTTY: process.stdout.isTTY === true, env: process.env, noColorFlag: process.argv.includes("--no-color") }));
    process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : renderDoctor(report, colors));
    process.exitCode = report.ok ? EXIT_OK : EXIT_FAILURE;
  },
}), {
  footer: "Run it as the user whose agents do not get through: access depends on who asks.",
});
