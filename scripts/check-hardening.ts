// Which systemd hardening options the daemon tolerates. Boots a real systemd
// in a private namespace (see lib/systemd-sandbox.ts), installs the system
// service to get its users, directories and config, then starts the daemon as
// a transient unit once per option — with the unit's own identity
// (User/Group/SupplementaryGroups/UMask/AmbientCapabilities) plus that one
// option — and checks that it starts, that an agent's event is committed, and
// that the agent's exe_path is still recorded. Every option in the shipped
// unit must pass; the candidates it leaves out show why.
//
//   bun scripts/check-hardening.ts        (root; refuses a machine with a system install)
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { removeSystemInstall, SystemdSandbox, systemInstallPresent } from "./lib/systemd-sandbox.ts";

const ROOT = join(import.meta.dir, "..");
// A copy outside /tmp and home directories, which PrivateTmp=/ProtectHome= hide from the unit.
const BIN_DIR = `/opt/agent-receipts-hardening-${process.pid}`;
const BINARY = join(BIN_DIR, "agent-receipts");
const UNIT = readFileSync(join(ROOT, "packaging", "systemd", "agent-receipts.service"), "utf8");
const CONFIG = "/etc/agentreceipts/daemon.toml";
const SOCKET = "/run/agentreceipts/events.sock";
const DB = "/var/lib/agentreceipts/receipts.db";
const AGENT = "ar-hardening-agent";

/** Keys that make the unit what it is, not hardening: every run gets them. */
const IDENTITY = new Set(["Type", "User", "Group", "SupplementaryGroups", "ExecStart", "Restart", "RestartSec", "TimeoutStopSec", "UMask", "AmbientCapabilities"]);
/** Options deliberately left out of the unit, checked to show why. */
const LEFT_OUT = ["MemoryDenyWriteExecute=yes", "PrivateUsers=yes", "SystemCallFilter=~@privileged @resources"];

function serviceLines(): string[] {
  const body = UNIT.slice(UNIT.indexOf("[Service]"), UNIT.indexOf("[Install]"));
  return body.split("\n").filter((l) => /^[A-Za-z]+=/.test(l));
}

interface Outcome {
  option: string;
  shipped: boolean;
  started: boolean;
  committed: boolean;
  exePath: boolean;
  note: string;
}

function receiptOf(session: string): { exe_path?: string } | undefined {
  const db = new Database(DB, { readonly: true });
  try {
    const row = db.query("SELECT receipt_json FROM receipts WHERE json_extract(receipt_json, '$.issuer.session_id') = ?").get(session) as { receipt_json: string } | null;
    return row === null ? undefined : (JSON.parse(row.receipt_json).credentialSubject.action.peer_credential as { exe_path?: string });
  } finally {
    db.close();
  }
}

async function check(sb: SystemdSandbox, n: number, options: string[], shipped: boolean): Promise<Outcome> {
  const unit = `ar-hardening-${n}`;
  const identity = serviceLines().filter((l) => IDENTITY.has(l.slice(0, l.indexOf("="))) && !l.startsWith("ExecStart") && !l.startsWith("Restart"));
  const props = [...identity, ...options].flatMap((p) => ["-p", p]);
  const run = sb.exec(["systemd-run", "--unit", unit, ...props, BINARY, "daemon", "--config", CONFIG]);
  const label = options.join(" ");
  if (run.status !== 0) return { option: label, shipped, started: false, committed: false, exePath: false, note: run.stderr.trim().split("\n")[0] ?? "" };
  const session = `hardening-${n}`;
  let committed = false;
  for (let i = 0; i < 25 && !committed; i++) {
    await Bun.sleep(200);
    if (sb.exec(["systemctl", "is-active", unit]).stdout.trim() === "failed") break;
    committed = sb.exec(["setpriv", `--reuid=${AGENT}`, `--regid=${AGENT}`, "--init-groups", "--", BINARY, "emit", "--socket", SOCKET, "--tool", "check", "--session", session, "--timeout-ms", "1000"]).status === 0;
  }
  const state = sb.exec(["systemctl", "show", unit, "-p", "ActiveState", "-p", "Result"]).stdout.trim().replace(/\n/g, " ");
  const log = sb.exec(["journalctl", "-u", unit, "--no-pager", "-o", "cat", "-n", "3"]).stdout.trim().split("\n").pop() ?? "";
  sb.exec(["systemctl", "stop", unit]);
  sb.exec(["systemctl", "reset-failed", unit]);
  const peer = committed ? receiptOf(session) : undefined;
  return {
    option: label, shipped, started: committed || state.includes("ActiveState=active"), committed, exePath: peer?.exe_path !== undefined,
    note: committed ? (peer?.exe_path === undefined ? "exe_path not recorded" : "") : `${state}; ${log.slice(0, 140)}`,
  };
}

if (process.getuid?.() !== 0) throw new Error("run as root");
if (systemInstallPresent()) throw new Error("this machine has a system install; refusing to touch it");
mkdirSync(BIN_DIR, { mode: 0o755 });
copyFileSync(join(ROOT, "dist", "agent-receipts"), BINARY);
const sb = await SystemdSandbox.boot();
const outcomes: Outcome[] = [];
try {
  const install = sb.exec([BINARY, "service", "install", "--system", "--binary", BINARY]);
  if (install.status !== 0) throw new Error(`service install failed:\n${install.stdout}${install.stderr}`);
  sb.exec(["systemctl", "stop", "agent-receipts.service"]);
  spawnSync("useradd", ["--no-create-home", "--user-group", "--groups", "agentreceipts-emit", AGENT]);
  const shipped = serviceLines().filter((l) => !IDENTITY.has(l.slice(0, l.indexOf("="))));
  // ProtectSystem=strict needs its ReadWritePaths to leave anything writable: check them as one.
  const groups = shipped.filter((l) => !l.startsWith("ReadWritePaths=")).map((l) =>
    l.startsWith("ProtectSystem=") ? [l, shipped.find((x) => x.startsWith("ReadWritePaths="))!] : [l]);
  let n = 0;
  outcomes.push(await check(sb, n++, [], true));
  outcomes[0]!.option = "(no hardening)";
  for (const g of groups) outcomes.push(await check(sb, n++, g, true));
  outcomes.push(await check(sb, n++, shipped, true));
  outcomes[outcomes.length - 1]!.option = "all shipped options together";
  for (const o of LEFT_OUT) outcomes.push(await check(sb, n++, [o], false));
} finally {
  await sb.shutdown();
  spawnSync("userdel", [AGENT]);
  removeSystemInstall();
  rmSync(BIN_DIR, { recursive: true, force: true });
}

const width = Math.max(...outcomes.map((o) => o.option.length));
console.log(`${"option".padEnd(width)}  in unit  starts  commits  exe_path  note`);
for (const o of outcomes) {
  const yn = (b: boolean) => (b ? "yes" : "NO");
  console.log(`${o.option.padEnd(width)}  ${(o.shipped ? "yes" : "no").padEnd(7)}  ${yn(o.started).padEnd(6)}  ${yn(o.committed).padEnd(7)}  ${yn(o.exePath).padEnd(8)}  ${o.note}`);
}
const bad = outcomes.filter((o) => o.shipped && !(o.started && o.committed && o.exePath));
console.log(bad.length === 0 ? "every shipped option passes" : `${bad.length} shipped option(s) FAIL`);
process.exitCode = bad.length === 0 ? 0 : 1;
