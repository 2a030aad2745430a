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
    emit: () => import("../commands/emit.ts").then((m) => m.emitCommand),
    hook: () => import("../commands/hook.ts").then((m) => m.hookCommand),
    keys: keysCommand,
    service: () => import("../commands/service.ts").then((m) => m.serviceCommand),
    verify: verifyCommand,
  },
});
