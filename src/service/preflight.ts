// Checks before touching the system, each failing with what to do instead.
import { accessSync, constants, existsSync, realpathSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { Platform } from "../paths/resolve.ts";
import type { Scope } from "./plan.ts";
import { EXIT_FAILURE, UserFacingError } from "../errors.ts";

export class PreflightError extends UserFacingError {
  constructor(message: string) {
    super(message, EXIT_FAILURE);
  }
}

export function defaultScope(uid: number): Scope {
  return uid === 0 ? "system" : "user";
}

/** The binary the service will run: --binary, else this executable (which must be the compiled agent-receipts). */
export function resolveBinary(flag: string | undefined, execPath: string): string {
  const candidate = flag ?? execPath;
  if (flag === undefined && basename(execPath) === "bun") {
    throw new PreflightError("this is running under bun, not the compiled agent-receipts binary: pass --binary <path of agent-receipts>");
  }
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw new PreflightError(`binary ${candidate} does not exist: pass --binary <path of agent-receipts>`);
  }
  try {
    accessSync(real, constants.X_OK);
  } catch {
    throw new PreflightError(`binary ${real} is not executable: chmod 755 ${real}`);
  }
  return real;
}

/** Hidden from the system unit by PrivateTmp= and ProtectHome=. */
const HIDDEN_FROM_UNIT = ["/tmp", "/var/tmp", "/home", "/root", "/run/user"];

/** The daemon user of a system install must be able to reach and run the binary, and the unit must be able to see it. */
export function checkBinaryForSystemService(binary: string, platform: Platform): void {
  const hidden = platform === "linux" ? HIDDEN_FROM_UNIT.find((d) => binary === d || binary.startsWith(`${d}/`)) : undefined;
  if (hidden !== undefined) {
    throw new PreflightError(
      `${binary} is under ${hidden}, which the unit's PrivateTmp=/ProtectHome= hide from the service. ` +
        `Install the binary first (sudo install -m 755 ${binary} /usr/local/bin/agent-receipts) and run /usr/local/bin/agent-receipts service install --system`,
    );
  }
  const st = statSync(binary);
  if ((st.mode & 0o005) !== 0o005) {
    throw new PreflightError(`the daemon user cannot run ${binary} (mode ${(st.mode & 0o777).toString(8)}): chmod 755 it, or install it to /usr/local/bin first`);
  }
  for (let dir = dirname(binary); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new PreflightError(`the daemon user cannot reach ${binary}: ${dir} is not searchable by others. Install the binary to /usr/local/bin (sudo install -m 755 ${binary} /usr/local/bin/) and pass --binary /usr/local/bin/agent-receipts`);
    }
    if (dir === dirname(dir)) break;
  }
}

/** The service manager this install needs must be here and running. */
export function checkManager(platform: Platform, scope: Scope, uid: number, hostPlatform: Platform): void {
  if (platform !== hostPlatform) throw new PreflightError(`--platform ${platform} only changes what --dry-run prints; this machine is ${hostPlatform}`);
  if (scope === "system" && uid !== 0) throw new PreflightError(`a system install must run as root: sudo agent-receipts service ... --system (or use --user)`);
  if (platform === "linux" && !existsSync("/run/systemd/system")) {
    throw new PreflightError("systemd is not running on this machine, so there is nothing to install the unit into. Use --dry-run to see the files and start `agent-receipts daemon` with your own supervisor.");
  }
}
