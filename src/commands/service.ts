import { defineCommand } from "citty";
import { cliCommand } from "../cli/command.ts";
import { homedir } from "node:os";
import { EXIT_FAILURE, UserFacingError } from "../errors.ts";
import { currentPlatform, type Platform } from "../paths/resolve.ts";
import { darwinInstallPlan, darwinUninstallPlan } from "../service/darwin.ts";
import { executePlan } from "../service/execute.ts";
import { linuxInstallPlan, linuxUninstallPlan } from "../service/linux.ts";
import { renderPlan, type Plan, type Scope } from "../service/plan.ts";
import { planJson } from "../service/plan-json.ts";
import { checkBinaryForSystemService, checkManager, defaultScope, PreflightError, resolveBinary } from "../service/preflight.ts";
import { renderStatus, serviceStatus } from "../service/status.ts";
import { printError } from "../cli/output.ts";

const EXIT_NOT_RUNNING = 3;

const scopeArgs = {
  system: { type: "boolean", description: "The system service: its own user, /etc, /var/lib, /run (default when run as root)" },
  user: { type: "boolean", description: "A service for the current user only (default when not root)" },
  json: { type: "boolean", description: "Print JSON" },
} as const;

const planArgs = {
  ...scopeArgs,
  "dry-run": { type: "boolean", description: "Print the files and commands instead of writing or running anything" },
  platform: { type: "string", description: "With --dry-run: show the plan for linux or darwin (default: this machine)", valueHint: "linux|darwin" },
} as const;

interface Common {
  platform: Platform;
  scope: Scope;
  uid: number;
  home: string;
}

function common(args: { system?: boolean; user?: boolean; platform?: string; "dry-run"?: boolean }): Common {
  if (args.system && args.user) throw new UserFacingError("--system and --user are exclusive: choose one");
  if (args.platform !== undefined && args.platform !== "linux" && args.platform !== "darwin") throw new UserFacingError(`--platform must be "linux" or "darwin", not "${args.platform}"`);
  if (args.platform !== undefined && !args["dry-run"]) throw new UserFacingError("--platform only applies to --dry-run");
  const uid = process.getuid?.() ?? 0;
  const scope: Scope = args.system ? "system" : args.user ? "user" : defaultScope(uid);
  return { platform: (args.platform as Platform | undefined) ?? currentPlatform(), scope, uid, home: process.env.HOME || homedir() };
}

const START_TIMEOUT_MS = 15_000;

function logHint(c: Common): string {
  if (c.platform === "darwin") return c.scope === "system" ? "/usr/local/var/log/agentreceipts/daemon.log" : "~/Library/Logs/agent-receipts.log";
  return c.scope === "system" ? "journalctl -u agent-receipts -n 50" : "journalctl --user -u agent-receipts -n 50";
}

/** An install is done when the daemon accepts connections, not when the manager was told to start it. */
async function awaitRunning(c: Common): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const s = await serviceStatus(c.platform, c.scope, c.uid, c.home);
    if (s.running && s.managed) {
      process.stdout.write(`the daemon is running (pid ${s.pid}) and accepting connections on ${s.socket}\n`);
      return;
    }
    if (Date.now() > deadline) {
      throw new UserFacingError(`the service was installed but the daemon is not accepting connections on ${s.socket} (state: ${s.state}). See ${logHint(c)}`, EXIT_FAILURE);
    }
    await Bun.sleep(200);
  }
}

/** Before anything else: is there a service manager to install into, and may this user? */
function checkCanChange(c: Common, dryRun: boolean | undefined): void {
  if (dryRun) return;
  try {
    checkManager(c.platform, c.scope, c.uid, currentPlatform());
  } catch (err) {
    if (err instanceof PreflightError) throw new UserFacingError(err.message, EXIT_FAILURE);
    throw err;
  }
}

async function carryOut(plan: Plan, c: Common, dryRun: boolean | undefined, json: boolean | undefined): Promise<void> {
  if (dryRun) {
    process.stdout.write(json ? `${JSON.stringify(planJson(plan), null, 2)}\n` : renderPlan(plan));
    return;
  }
  process.stdout.write(`agent-receipts service ${plan.action} --${c.scope} (${plan.platform}), ${plan.steps.length} steps\n`);
  executePlan(plan, (line) => process.stdout.write(`${line}\n`));
  if (plan.action === "install") await awaitRunning(c);
  for (const note of plan.notes) process.stdout.write(`note: ${note}\n`);
}

const installCommand = defineCommand({
  meta: {
    name: "install",
    description:
      "Install and start agent-receipts as a service: a systemd unit (Linux) or launchd plist (macOS), for the system " +
      "(own user, agents in group agentreceipts-emit) or for you. Writes the files shipped in packaging/ with this binary's path. " +
      "Keeps an existing daemon.toml; run again after replacing the binary to restart on it.",
  },
  args: {
    ...planArgs,
    binary: { type: "string", description: "The agent-receipts binary the service runs (default: this executable)", valueHint: "PATH" },
  },
  async run({ args }) {
    const c = common(args);
    checkCanChange(c, args["dry-run"]);
    let binary: string;
    try {
      binary = args["dry-run"] && args.binary !== undefined ? args.binary : resolveBinary(args.binary, process.execPath);
    } catch (err) {
      if (err instanceof PreflightError) throw new UserFacingError(err.message);
      throw err;
    }
    if (c.scope === "system") {
      try {
        checkBinaryForSystemService(binary, c.platform);
      } catch (err) {
        // A dry run may plan for a binary not copied into place yet.
        const absent = (err as NodeJS.ErrnoException).code === "ENOENT";
        const message = err instanceof PreflightError ? err.message : `cannot check ${binary}: ${(err as Error).message}`;
        if (!args["dry-run"]) throw new UserFacingError(message);
        // A dry run shows the plan all the same, but says what the real install would refuse.
        if (!absent) printError(`agent-receipts: warning: the real install would refuse: ${message}`);
      }
    }
    const plan = c.platform === "linux" ? linuxInstallPlan(c.scope, binary, c.home) : darwinInstallPlan(c.scope, binary, c.home, c.uid);
    await carryOut(plan, c, args["dry-run"], args.json);
  },
});

const uninstallCommand = defineCommand({
  meta: {
    name: "uninstall",
    description: "Stop the service and remove its unit or plist. Keeps the receipts, the signing key, the config and the accounts.",
  },
  args: planArgs,
  async run({ args }) {
    const c = common(args);
    checkCanChange(c, args["dry-run"]);
    const plan = c.platform === "linux" ? linuxUninstallPlan(c.scope, c.home) : darwinUninstallPlan(c.scope, c.home, c.uid);
    await carryOut(plan, c, args["dry-run"], args.json);
  },
});

const statusCommand = defineCommand({
  meta: {
    name: "status",
    description: "Show whether the service is installed and running, and whether its socket accepts connections. Exit 0 running (also a daemon started by hand, reported as not managed by the service), 3 not.",
  },
  args: scopeArgs,
  async run({ args }) {
    const c = common(args);
    const status = await serviceStatus(c.platform, c.scope, c.uid, c.home);
    process.stdout.write(args.json ? `${JSON.stringify(status)}\n` : renderStatus(status));
    if (!status.running) process.exitCode = EXIT_NOT_RUNNING;
  },
});

export const serviceCommand = cliCommand(defineCommand({
  meta: { name: "service", description: "Install, remove or inspect the daemon as a systemd or launchd service" },
  subCommands: { install: installCommand, uninstall: uninstallCommand, status: statusCommand },
}));
