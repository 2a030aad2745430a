// The packaging files, embedded at build time. `service install` writes them
// with only the binary path (and, for the LaunchAgent, the home directory)
// filled in, so what it installs is what packaging/ ships.
import linuxConfig from "../../packaging/config/daemon.linux.toml" with { type: "text" };
import darwinConfig from "../../packaging/config/daemon.darwin.toml" with { type: "text" };
import createAccounts from "../../packaging/launchd/create-accounts.sh" with { type: "text" };
import launchDaemon from "../../packaging/launchd/system/ai.agentreceipts.daemon.plist" with { type: "text" };
import launchAgent from "../../packaging/launchd/user/ai.agentreceipts.daemon.plist" with { type: "text" };
import systemUnit from "../../packaging/systemd/agent-receipts.service" with { type: "text" };
import sysusers from "../../packaging/systemd/agent-receipts.sysusers.conf" with { type: "text" };
import tmpfiles from "../../packaging/systemd/agent-receipts.tmpfiles.conf" with { type: "text" };
import userUnit from "../../packaging/systemd/agent-receipts.user.service" with { type: "text" };
import type { Owner, WriteStep } from "./plan.ts";

export interface ShippedFile {
  /** Path inside packaging/. */
  source: string;
  text: string;
}

const file = (source: string, text: string): ShippedFile => ({ source, text });

export const SHIPPED = {
  systemUnit: file("systemd/agent-receipts.service", systemUnit),
  userUnit: file("systemd/agent-receipts.user.service", userUnit),
  sysusers: file("systemd/agent-receipts.sysusers.conf", sysusers),
  tmpfiles: file("systemd/agent-receipts.tmpfiles.conf", tmpfiles),
  linuxConfig: file("config/daemon.linux.toml", linuxConfig as string),
  darwinConfig: file("config/daemon.darwin.toml", darwinConfig as string),
  launchDaemon: file("launchd/system/ai.agentreceipts.daemon.plist", launchDaemon),
  launchAgent: file("launchd/user/ai.agentreceipts.daemon.plist", launchAgent),
  createAccounts: file("launchd/create-accounts.sh", createAccounts),
} as const;

/** The binary path written in the shipped files. */
export const SHIPPED_BINARY = "/usr/local/bin/agent-receipts";
/** Placeholder for the home directory in the LaunchAgent. */
export const HOME_PLACEHOLDER = "__HOME__";

export const UNIT_NAME = "agent-receipts.service";
export const LAUNCHD_LABEL = "ai.agentreceipts.daemon";
export const DAEMON_USER = "agentreceipts";
export const READ_GROUP = "agentreceipts-read";
export const EMIT_GROUP = "agentreceipts-emit";

/** The step that installs a shipped file at `path`, filled in for this machine: the binary path, and the home directory where it has a placeholder. */
export function writeShipped(
  f: ShippedFile, path: string, mode: number, binary: string, opts: { owner?: Owner; keepExisting?: boolean; home?: string } = {},
): WriteStep {
  const { home, ...extra } = opts;
  let content = f.text.replaceAll(SHIPPED_BINARY, binary);
  if (home !== undefined) content = content.replaceAll(HOME_PLACEHOLDER, home);
  return { kind: "write", path, mode, content, source: f.source, ...extra };
}
