// What `status` and `doctor` look at, and where each path came from, so that
// every line can say why it names that file. Precedence as for the daemon
// (flags < environment < config file < defaults), with one more source before
// the defaults: the running daemon's own status file, so that a reader with no
// configuration finds the database and key the daemon actually uses.
import { existsSync } from "node:fs";
import { parseConfigFile, type ConfigInput } from "../daemon/config.ts";
import { currentPlatform, defaultSocketPath, envValue, publicKeyPathFor, resolvePaths, type Env } from "../paths/resolve.ts";
import { looksLikeTcp } from "../paths/socket-address.ts";
import { UserFacingError } from "../errors.ts";
import type { DaemonStatusFile } from "./status-file.ts";

export interface Sourced {
  path: string;
  /** "--db", "AGENTRECEIPTS_DB", "config /etc/...", "the running daemon", "default". */
  from: string;
  /** Given by a flag (--db, --public-key, --socket): a file that cannot be used is a usage error. */
  explicit: boolean;
}

export interface ReaderFlags {
  db?: string;
  publicKey?: string;
  config?: string;
  socket?: string;
}

export interface ConfigRead {
  path: string | null;
  values: ConfigInput;
  /** Why an implicit config file (data dir daemon.toml) was skipped. */
  skipped: string | null;
}

/** The config file: --config or AGENTRECEIPTS_CONFIG (an error is a usage error), else daemon.toml in the data dir when readable. */
export function readReaderConfig(flag: string | undefined, env: Env = process.env): ConfigRead {
  const explicit = flag ?? envValue(env, "AGENTRECEIPTS_CONFIG");
  if (explicit !== undefined) return { path: explicit, values: parseConfigFile(explicit), skipped: null };
  const implicit = resolvePaths(env).config;
  if (!existsSync(implicit)) return { path: null, values: {}, skipped: null };
  try {
    return { path: implicit, values: parseConfigFile(implicit), skipped: null };
  } catch (err) {
    return { path: null, values: {}, skipped: (err as Error).message };
  }
}

/** The socket emitters in this shell use: --socket, $AGENTRECEIPTS_SOCKET, else the platform default (emitters read no config file). */
export function shellSocket(flag: string | undefined, env: Env = process.env): Sourced {
  if (flag !== undefined) {
    if (looksLikeTcp(flag)) throw new UserFacingError(`--socket ${flag} looks like a TCP address; the daemon only listens on a Unix socket. Give its path, e.g. /run/agentreceipts/events.sock.`);
    return { path: flag, from: "--socket", explicit: true };
  }
  const fromEnv = envValue(env, "AGENTRECEIPTS_SOCKET");
  if (fromEnv !== undefined) return { path: fromEnv, from: "AGENTRECEIPTS_SOCKET", explicit: false };
  return { path: defaultSocketPath(env), from: "default", explicit: false };
}

/** Where a daemon may listen, most likely first: the shell's socket, the config's, the defaults (user and system). */
export function candidateSockets(shell: string, config: ConfigRead, env: Env = process.env): string[] {
  const withoutOverride = { ...env, AGENTRECEIPTS_SOCKET: undefined };
  const system = currentPlatform() === "darwin" ? "/var/run/agentreceipts/events.sock" : "/run/agentreceipts/events.sock";
  const list = [shell, config.values.socket, defaultSocketPath(withoutOverride), system, `${resolvePaths(withoutOverride).dataDir}/events.sock`];
  return [...new Set(list.filter((p): p is string => p !== undefined))];
}

function configFrom(config: ConfigRead): string {
  return `config ${config.path}`;
}

/** The database and keys to read, given the flags, the config and the running daemon's status file (if any). */
export function readerPaths(flags: ReaderFlags, config: ConfigRead, daemon: DaemonStatusFile | null, env: Env = process.env): {
  db: Sourced; publicKey: Sourced; key: Sourced;
} {
  const defaults = resolvePaths({ ...env, AGENTRECEIPTS_DB: undefined, AGENTRECEIPTS_KEY: undefined, AGENTRECEIPTS_PUBLIC_KEY: undefined });
  const pick = (flag: [string | undefined, string], envName: string, fromConfig: string | undefined, fromDaemon: string | undefined, fallback: string): Sourced => {
    if (flag[0] !== undefined) return { path: flag[0], from: flag[1], explicit: true };
    const e = envValue(env, envName);
    if (e !== undefined) return { path: e, from: envName, explicit: false };
    if (fromConfig !== undefined) return { path: fromConfig, from: configFrom(config), explicit: false };
    if (fromDaemon !== undefined) return { path: fromDaemon, from: "the running daemon", explicit: false };
    return { path: fallback, from: "default", explicit: false };
  };
  const key = pick([undefined, ""], "AGENTRECEIPTS_KEY", config.values.key, daemon?.key, defaults.key);
  const configPublic = config.values.public_key ?? (config.values.key === undefined ? undefined : publicKeyPathFor(config.values.key));
  let publicKey = pick([flags.publicKey, "--public-key"], "AGENTRECEIPTS_PUBLIC_KEY", configPublic, daemon?.public_key, defaults.publicKey);
  // The public key is published beside the signing key: $AGENTRECEIPTS_KEY names both.
  if (key.from === "AGENTRECEIPTS_KEY" && publicKey.from !== "--public-key" && publicKey.from !== "AGENTRECEIPTS_PUBLIC_KEY") publicKey = { path: publicKeyPathFor(key.path), from: "AGENTRECEIPTS_KEY", explicit: false };
  return { db: pick([flags.db, "--db"], "AGENTRECEIPTS_DB", config.values.db, daemon?.db, defaults.db), key, publicKey };
}
