// The one resolver for every path the project uses. The daemon, every emitter
// and every reader call it, so they can never disagree on where the socket or
// the database lives (docs/protocol.md §3, §9). Plain Node APIs only: the emitter
// bundle that runs on Node.js imports this file too.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

export type Env = Readonly<Record<string, string | undefined>>;
export type Platform = "linux" | "darwin";

export interface ResolvedPaths {
  dataDir: string;
  socket: string;
  db: string;
  key: string;
  publicKey: string;
  config: string;
}

/** An env value, with empty strings counted as unset (docs/protocol.md §9). */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

export function currentPlatform(): Platform {
  return process.platform === "darwin" ? "darwin" : "linux";
}

/** `<data>`: `$XDG_DATA_HOME` when absolute, else `$HOME/.local/share`. */
export function dataHome(env: Env = process.env): string {
  const xdg = envValue(env, "XDG_DATA_HOME");
  if (xdg !== undefined && isAbsolute(xdg)) return xdg;
  return join(envValue(env, "HOME") ?? homedir(), ".local", "share");
}

export function defaultDataDir(env: Env = process.env): string {
  return join(dataHome(env), "agent-receipts");
}

/** The system daemon's socket directory on Linux (PROTOCOL §3). */
export const SYSTEM_SOCKET_DIR = "/run/agentreceipts";

/** What the Linux default depends on besides the environment: who asks, and whether a system daemon's directory exists. */
export interface Host {
  uid: number | undefined;
  exists(path: string): boolean;
}

export function currentHost(): Host {
  return { uid: process.getuid?.(), exists: existsSync };
}

/**
 * Linux: `$XDG_RUNTIME_DIR/agentreceipts/events.sock`; else, for root or when
 * `/run/agentreceipts` exists (a system daemon's), `/run/agentreceipts/events.sock`;
 * else `<data>/agent-receipts/events.sock`, because a user without a runtime
 * dir could never create `/run/agentreceipts`. macOS: `<data>/agent-receipts/events.sock`.
 */
export function defaultSocketPath(env: Env = process.env, platform: Platform = currentPlatform(), host: Host = currentHost()): string {
  if (platform === "darwin") return join(defaultDataDir(env), "events.sock");
  const runtime = envValue(env, "XDG_RUNTIME_DIR");
  if (runtime !== undefined && isAbsolute(runtime)) return join(runtime, "agentreceipts", "events.sock");
  if (host.uid === 0 || host.exists(SYSTEM_SOCKET_DIR)) return join(SYSTEM_SOCKET_DIR, "events.sock");
  return join(defaultDataDir(env), "events.sock");
}

/** The socket emitters connect to: `AGENTRECEIPTS_SOCKET`, else the platform default. */
export function resolveSocketPath(env: Env = process.env, platform: Platform = currentPlatform(), host: Host = currentHost()): string {
  return envValue(env, "AGENTRECEIPTS_SOCKET") ?? defaultSocketPath(env, platform, host);
}

/** Every path from the environment and the platform defaults (no config file, no flags). */
export function resolvePaths(env: Env = process.env, platform: Platform = currentPlatform(), host: Host = currentHost()): ResolvedPaths {
  const dataDir = defaultDataDir(env);
  const key = envValue(env, "AGENTRECEIPTS_KEY") ?? join(dataDir, "signing.key");
  return {
    dataDir,
    socket: resolveSocketPath(env, platform, host),
    db: envValue(env, "AGENTRECEIPTS_DB") ?? join(dataDir, "receipts.db"),
    key,
    publicKey: envValue(env, "AGENTRECEIPTS_PUBLIC_KEY") ?? publicKeyPathFor(key),
    config: envValue(env, "AGENTRECEIPTS_CONFIG") ?? join(dataDir, "daemon.toml"),
  };
}

/** The public key is published beside the private key (docs/protocol.md §9). */
export function publicKeyPathFor(keyPath: string): string {
  return `${keyPath}.pub`;
}
