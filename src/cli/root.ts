import { defineCommand } from "citty";
import { VERSION } from "../version.ts";
import { verifyCommand } from "../commands/verify.ts";

export const rootCommand = defineCommand({
  meta: {
    name: "agent-receipts",
    version: VERSION,
    description: "Signed, hash-chained receipts for every tool call an AI agent makes",
  },
  subCommands: {
    verify: verifyCommand,
  },
});
