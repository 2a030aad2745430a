// The one resolver for every path the project uses. The daemon, every emitter
// and every reader call it, so they can never disagree on where the socket or
// the database lives (PROTOCOL §3, §9). Plain Node APIs only: the emitter
// bundle that runs on Node.js imports this file too.
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

/** An env value, with empty strings counted as unset (PROTOCOL §9). */
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

export function defaultSocketPath(env: Env = process.env, platform: Platform = currentPlatform()): string {
  if (platform === "darwin") return join(defaultDataDir(env), "events.sock");
  const runtime = envValue(env, "XDG_RUNTIME_DIR");
  if (runtime !== undefined && isAbsolute(runtime)) return join(runtime, "agentreceipts", "events.sock");
  return "/run/agentreceipts/events.sock";
}

/** The socket emitters connect to: `AGENTRECEIPTS_SOCKET`, else the platform default. */
export function resolveSocketPath(env: Env = process.env, platform: Platform = currentPlatform()): string {
  return envValue(env, "AGENTRECEIPTS_SOCKET") ?? defaultSocketPath(env, platform);
}

/** Every path from the environment and the platform defaults (no config file, no flags). */
export function resolvePaths(env: Env = process.env, platform: Platform = currentPlatform()): ResolvedPaths {
  const dataDir = defaultDataDir(env);
  const key = envValue(env, "AGENTRECEIPTS_KEY") ?? join(dataDir, "signing.key");
  return {
    dataDir,
    socket: resolveSocketPath(env, platform),
    db: envValue(env, "AGENTRECEIPTS_DB") ?? join(dataDir, "receipts.db"),
    key,
    publicKey: envValue(env, "AGENTRECEIPTS_PUBLIC_KEY") ?? publicKeyPathFor(key),
    config: envValue(env, "AGENTRECEIPTS_CONFIG") ?? join(dataDir, "daemon.toml"),
  };
}

/** The public key is published beside the private key (PROTOCOL §9). */
export function publicKeyPathFor(keyPath: string): string {
  return `${keyPath}.pub`;
}
