import { defineCommand } from "citty";
import { VERSION } from "../version.ts";
import { daemonCommand } from "../commands/daemon.ts";
import { keysCommand } from "../commands/keys.ts";
import { verifyCommand } from "../commands/verify.ts";

export const rootCommand = defineCommand({
  meta: {
    name: "agent-receipts",
    version: VERSION,
    description: "Signed, hash-chained receipts for every tool call an AI agent makes",
  },
  subCommands: {
    daemon: daemonCommand,
    keys: keysCommand,
    verify: verifyCommand,
  },
});
