// Daemon configuration: defaults < TOML file < environment < flags (docs/protocol.md §9).
// Unknown keys and malformed values are errors that name the key.
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { Principal } from "./access/resolve.ts";
import { DEFAULT_ISSUER_ID } from "./pipeline/builder.ts";
import { envValue, publicKeyPathFor, resolvePaths, type Env } from "../paths/resolve.ts";
import { looksLikeTcp } from "../paths/socket-address.ts";
import { DEFAULT_MAX_AGENT_CHAINS, MAX_AGENT_CHAINS_LIMIT, MIN_BUFFERED_BYTES, parseByteSize, parseCount } from "./limits.ts";
import { UserFacingError } from "../errors.ts";
import { anchorName, parseAnchorSpec } from "./anchors/spec.ts";
import { isValidKeyName } from "../tlog/note.ts";

export type LogFormat = "text" | "json";

export interface DaemonConfig {
  socket: string;
  db: string;
  key: string;
  public_key: string;
  /** Configured root chain id; undefined means the UTC date at start. */
  chain_id: string | undefined;
  issuer_id: string;
  verification_method: string;
  unsafe_socket_path: boolean;
  log_format: LogFormat;
  /** Users (uid or login) allowed to emit besides root and the daemon's own uid. */
  allow_uids: Principal[];
  /** Groups (gid or name) whose members may emit. */
  allow_groups: Principal[];
  /** Group (gid or name) given to the socket and its directory; default: the daemon's own group. */
  socket_group: Principal | undefined;
  /** Bytes buffered for incomplete frames across all connections; undefined: sized for the machine. */
  max_buffered_bytes: number | undefined;
  /** Sub-agent chains kept open at once; undefined: DEFAULT_MAX_AGENT_CHAINS. */
  max_agent_chains: number | undefined;
  /** The transparency log (Merkle tree, checkpoints, anchors); off only to measure its cost. */
  transparency_log: boolean;
  /** Checkpoint origin and the log key's note name; undefined: derived from the host name and the key fingerprint. */
  log_origin: string | undefined;
  /** A checkpoint at least every this many receipts. */
  checkpoint_every: number;
  /** Seconds after the first receipt no checkpoint covers, at most, until one does. */
  checkpoint_interval: number;
  /** Where each checkpoint is also written: "file:PATH", "syslog", "witness:URL VKEY" (file paths absolute). */
  anchors: string[];
  /** The config file that was read, if any. */
  config_file: string | undefined;
}

export type ConfigInput = Partial<Omit<DaemonConfig, "config_file">>;

export class ConfigError extends UserFacingError {}

const STRING_KEYS = ["socket", "db", "key", "public_key", "chain_id", "issuer_id", "verification_method"] as const;
const LIST_KEYS = ["allow_uids", "allow_groups"] as const;
const LIMIT_KEYS = ["max_buffered_bytes", "max_agent_chains"] as const;
const TLOG_KEYS = ["transparency_log", "log_origin", "checkpoint_every", "checkpoint_interval", "anchors"] as const;
const KNOWN_KEYS = new Set<string>([...STRING_KEYS, ...LIST_KEYS, "socket_group", "unsafe_socket_path", "log_format", ...LIMIT_KEYS, ...TLOG_KEYS]);
export const DEFAULT_CHECKPOINT_EVERY = 1000;
export const DEFAULT_CHECKPOINT_INTERVAL = 10;
const MAX_CHECKPOINT_EVERY = 10_000_000;
const MIN_CHECKPOINT_INTERVAL = 0.05;
const MAX_CHECKPOINT_INTERVAL = 86_400;

/** Seconds: a number, or a string such as "10s", "500ms", "2m". */
export function parseSeconds(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (m === null) return undefined;
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] ?? "s"]!;
  return Number(m[1]) * factor;
}

/** Checks the anchors list; file paths are made absolute against `baseDir` (the config file's directory). */
function checkAnchors(value: unknown, source: string, baseDir: string | undefined): string[] {
  if (!Array.isArray(value)) throw new ConfigError(`${source}: "anchors" must be a list, e.g. anchors = ["file:/var/log/agent-receipts/checkpoints", "syslog"]`);
  return value.map((v, i) => {
    try {
      const spec = parseAnchorSpec(v, baseDir);
      return spec.kind === "witness" ? `witness:${spec.url} ${spec.vkey}` : anchorName(spec);
    } catch (err) {
      throw new ConfigError(`${source}: "anchors"[${i}]: ${(err as Error).message}`);
    }
  });
}
/** Keys holding a path: in a config file, a relative one is relative to the file's directory. */
const PATH_KEYS = new Set<string>(["socket", "db", "key", "public_key"]);

/** A uid/gid or a user/group name; `what` names the value for the error. */
function checkPrincipal(value: unknown, what: string): Principal {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value < 2 ** 32) return value;
  if (typeof value === "string" && /^[0-9]+$/.test(value)) return checkPrincipal(Number(value), what);
  if (typeof value === "string" && /^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/.test(value) && value.length <= 256) return value;
  throw new ConfigError(`${what} must be a numeric id or a user/group name, not ${JSON.stringify(value)}`);
}

/** Parses a comma-separated flag value such as "1001,alice". */
export function splitList(value: string): string[] {
  return value.split(",").map((v) => v.trim()).filter((v) => v !== "");
}

const ENV_KEYS: Record<(typeof STRING_KEYS)[number], string> = {
  socket: "AGENTRECEIPTS_SOCKET",
  db: "AGENTRECEIPTS_DB",
  key: "AGENTRECEIPTS_KEY",
  public_key: "AGENTRECEIPTS_PUBLIC_KEY",
  chain_id: "AGENTRECEIPTS_CHAIN_ID",
  issuer_id: "AGENTRECEIPTS_ISSUER_ID",
  verification_method: "AGENTRECEIPTS_VERIFICATION_METHOD",
};

/** Checks one value; `source` says where it came from, for the error. */
export function checkValue(key: string, value: unknown, source: string): ConfigInput {
  if ((STRING_KEYS as readonly string[]).includes(key)) {
    if (typeof value !== "string" || value === "") throw new ConfigError(`${source}: "${key}" must be a non-empty string`);
    if (key === "chain_id" && (/[/\0]/.test(value) || Buffer.byteLength(value) > 200)) {
      throw new ConfigError(`${source}: "chain_id" must be at most 200 bytes without '/' or NUL ('/' is reserved for sub-agent chains)`);
    }
    return { [key]: value };
  }
  if ((LIST_KEYS as readonly string[]).includes(key)) {
    if (!Array.isArray(value)) throw new ConfigError(`${source}: "${key}" must be a list, e.g. ${key} = ["alice", 1001]`);
    return { [key]: value.map((v, i) => checkPrincipal(v, `${source}: "${key}"[${i}]`)) };
  }
  if (key === "socket_group") return { socket_group: checkPrincipal(value, `${source}: "socket_group"`) };
  if (key === "unsafe_socket_path") {
    if (typeof value !== "boolean") throw new ConfigError(`${source}: "unsafe_socket_path" must be true or false`);
    return { unsafe_socket_path: value };
  }
  if (key === "max_buffered_bytes") {
    const n = parseByteSize(value);
    if (n === undefined || n < MIN_BUFFERED_BYTES) {
      throw new ConfigError(`${source}: "max_buffered_bytes" must be a byte count of at least ${MIN_BUFFERED_BYTES} (one 1 MiB frame), e.g. 67108864 or "64MiB"`);
    }
    return { max_buffered_bytes: n };
  }
  if (key === "max_agent_chains") {
    const n = parseCount(value);
    if (n === undefined || n < 1 || n > MAX_AGENT_CHAINS_LIMIT) {
      throw new ConfigError(`${source}: "max_agent_chains" must be a whole number from 1 to ${MAX_AGENT_CHAINS_LIMIT}, e.g. ${DEFAULT_MAX_AGENT_CHAINS}`);
    }
    return { max_agent_chains: n };
  }
  if (key === "transparency_log") {
    if (typeof value !== "boolean") throw new ConfigError(`${source}: "transparency_log" must be true or false`);
    return { transparency_log: value };
  }
  if (key === "log_origin") {
    if (typeof value !== "string" || !isValidKeyName(value) || Buffer.byteLength(value) > 255) {
      throw new ConfigError(`${source}: "log_origin" must be a non-empty name of at most 255 bytes without spaces or "+", e.g. "example.com/agent-receipts/host1"`);
    }
    return { log_origin: value };
  }
  if (key === "checkpoint_every") {
    const n = parseCount(value);
    if (n === undefined || n < 1 || n > MAX_CHECKPOINT_EVERY) {
      throw new ConfigError(`${source}: "checkpoint_every" must be a whole number of receipts from 1 to ${MAX_CHECKPOINT_EVERY}, e.g. ${DEFAULT_CHECKPOINT_EVERY}`);
    }
    return { checkpoint_every: n };
  }
  if (key === "checkpoint_interval") {
    const n = parseSeconds(value);
    if (n === undefined || n < MIN_CHECKPOINT_INTERVAL || n > MAX_CHECKPOINT_INTERVAL) {
      throw new ConfigError(`${source}: "checkpoint_interval" must be seconds from ${MIN_CHECKPOINT_INTERVAL} to ${MAX_CHECKPOINT_INTERVAL}, e.g. 10 or "10s" or "500ms"`);
    }
    return { checkpoint_interval: n };
  }
  if (key === "anchors") return { anchors: checkAnchors(value, source, undefined) };
  if (key === "log_format") {
    if (value !== "text" && value !== "json") throw new ConfigError(`${source}: "log_format" must be "text" or "json"`);
    return { log_format: value };
  }
  throw new ConfigError(`${source}: unknown key "${key}" (known keys: ${[...KNOWN_KEYS].join(", ")})`);
}

export function parseConfigFile(path: string): ConfigInput {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = Bun.TOML.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid TOML: ${(err as Error).message}`);
  }
  let out: ConfigInput = {};
  for (const [key, value] of Object.entries(parsed)) {
    const checked = key === "anchors" ? { anchors: checkAnchors(value, `config file ${path}`, dirname(resolve(path))) } : checkValue(key, value, `config file ${path}`);
    // A relative path means the same file wherever the daemon is started from: the config file's directory.
    if (PATH_KEYS.has(key) && typeof value === "string" && !isAbsolute(value) && !looksLikeTcp(value)) {
      Object.assign(checked, { [key]: resolve(dirname(resolve(path)), value) });
    }
    out = { ...out, ...checked };
  }
  return out;
}

function fromEnv(env: Env): ConfigInput {
  let out: ConfigInput = {};
  for (const key of STRING_KEYS) {
    const value = envValue(env, ENV_KEYS[key]);
    if (value !== undefined) out = { ...out, ...checkValue(key, value, `environment ${ENV_KEYS[key]}`) };
  }
  return out;
}

/**
 * The effective configuration. `configPath` is the --config flag; without it,
 * AGENTRECEIPTS_CONFIG or `daemon.toml` in the data dir (optional when absent).
 */
export function resolveConfig(flags: ConfigInput, configPath: string | undefined, env: Env = process.env): DaemonConfig {
  const defaults = resolvePaths({ ...env, AGENTRECEIPTS_SOCKET: undefined, AGENTRECEIPTS_DB: undefined, AGENTRECEIPTS_KEY: undefined, AGENTRECEIPTS_PUBLIC_KEY: undefined });
  const explicit = configPath ?? envValue(env, "AGENTRECEIPTS_CONFIG");
  const file = explicit ?? defaults.config;
  let fromFile: ConfigInput = {};
  let configFile: string | undefined;
  if (explicit !== undefined || existsSync(file)) {
    fromFile = parseConfigFile(file);
    configFile = file;
  }
  const merged: ConfigInput = { ...fromFile, ...fromEnv(env), ...stripUndefined(flags) };
  const key = merged.key ?? defaults.key;
  const issuerId = merged.issuer_id ?? DEFAULT_ISSUER_ID;
  return {
    socket: merged.socket ?? defaults.socket,
    db: merged.db ?? defaults.db,
    key,
    public_key: merged.public_key ?? publicKeyPathFor(key),
    chain_id: merged.chain_id,
    issuer_id: issuerId,
    verification_method: merged.verification_method ?? `${issuerId}#k1`,
    unsafe_socket_path: merged.unsafe_socket_path ?? false,
    log_format: merged.log_format ?? "text",
    allow_uids: merged.allow_uids ?? [],
    allow_groups: merged.allow_groups ?? [],
    socket_group: merged.socket_group,
    max_buffered_bytes: merged.max_buffered_bytes,
    max_agent_chains: merged.max_agent_chains,
    transparency_log: merged.transparency_log ?? true,
    log_origin: merged.log_origin,
    checkpoint_every: merged.checkpoint_every ?? DEFAULT_CHECKPOINT_EVERY,
    checkpoint_interval: merged.checkpoint_interval ?? DEFAULT_CHECKPOINT_INTERVAL,
    anchors: merged.anchors ?? [],
    config_file: configFile,
  };
}

function stripUndefined(input: ConfigInput): ConfigInput {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as ConfigInput;
}
