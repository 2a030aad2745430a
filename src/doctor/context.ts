// What every doctor check looks at, resolved once: the config, this shell's
// socket, the running daemon (found without connecting) and the paths it
// implies, exactly as `status` resolves them.
import { homedir } from "node:os";
import { discover, liveStatus, type Discovery } from "../status/discover.ts";
import type { DaemonStatusFile } from "../status/status-file.ts";
import { candidateSockets, readerPaths, readReaderConfig, shellSocket, type ConfigRead, type ReaderFlags, type Sourced } from "../status/targets.ts";
import { envValue } from "../paths/resolve.ts";
import { loadPublicKey } from "../keys/key-files.ts";
import { ReadOnlyDatabase } from "../store/open-readonly.ts";

export interface DoctorContext {
  config: ConfigRead;
  shell: Sourced;
  found: Discovery;
  /** The running daemon's status file, when one runs and its file is readable. */
  daemon: DaemonStatusFile | null;
  db: Sourced;
  publicKey: Sourced;
  key: Sourced;
  home: string;
  cwd: string;
}

export function doctorContext(flags: ReaderFlags): DoctorContext {
  const config = readReaderConfig(flags.config);
  const shell = shellSocket(flags.socket);
  const found = discover(shell.path, candidateSockets(shell.path, config));
  const daemon = found.daemon === null ? null : liveStatus(found.daemon);
  const paths = readerPaths(flags, config, daemon);
  return { config, shell, found, daemon, ...paths, home: envValue(process.env, "HOME") ?? homedir(), cwd: process.cwd() };
}

/**
 * A file named by a flag that cannot be used is a wrong argument (exit 2, one
 * line), not something to diagnose: the user pointed at the wrong thing.
 */
export function requireFlaggedFiles(ctx: DoctorContext): void {
  if (ctx.db.explicit) new ReadOnlyDatabase(ctx.db.path).close();
  if (ctx.publicKey.explicit) loadPublicKey(ctx.publicKey.path);
}
