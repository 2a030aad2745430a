// The flags `list`, `tail` and `export` share, and their translation into a
// ReceiptFilter. Bad values are usage errors (exit 2) naming the flag and
// what it takes.
import { UserFacingError } from "../errors.ts";
import { uidOfLogin } from "../os/accounts.ts";
import { OUTCOME_STATUSES, RISK_LEVELS, type ReceiptFilter } from "../query/filter.ts";
import { parseTime, TIME_HELP } from "./time.ts";

export const pathArgs = {
  db: { type: "string", description: "Database to read (default: $AGENTRECEIPTS_DB, the config's db, else <data dir>/receipts.db)", valueHint: "PATH" },
  config: { type: "string", description: "Config file to take paths from (default: $AGENTRECEIPTS_CONFIG, else <data dir>/daemon.toml when present)", valueHint: "PATH" },
} as const;

export const publicKeyArg = {
  "public-key": { type: "string", description: "Ed25519 public key (default: $AGENTRECEIPTS_PUBLIC_KEY, the config's, else <key>.pub)", valueHint: "PATH" },
} as const;

// Mutable copies: citty's enum definition takes string[].
const RISK_OPTIONS: string[] = [...RISK_LEVELS];
const STATUS_OPTIONS: string[] = [...OUTCOME_STATUSES];

export const filterArgs = {
  chain: { type: "string", description: "Only this chain (default: every chain)", valueHint: "ID" },
  since: { type: "string", description: `Receipts at or after this time: ${TIME_HELP}`, valueHint: "TIME" },
  until: { type: "string", description: "Receipts before this time (same forms as --since)", valueHint: "TIME" },
  session: { type: "string", description: "Only this session id (issuer.session_id)", valueHint: "ID" },
  channel: { type: "string", description: "Only this channel (action types <channel>.<tool>; an explicit action type records no channel)", valueHint: "NAME" },
  tool: { type: "string", description: "Tool name, a GLOB (e.g. 'mcp__*' or Bash)", valueHint: "GLOB" },
  type: { type: "string", description: "Action type, a GLOB (e.g. 'filesystem.*')", valueHint: "GLOB" },
  risk: { type: "enum", options: RISK_OPTIONS, description: "This risk level and above", valueHint: "LEVEL" },
  status: { type: "enum", options: STATUS_OPTIONS, description: "Only this outcome status", valueHint: "STATUS" },
  agent: { type: "string", description: "Only the sub-agent chains of this agent id", valueHint: "ID" },
  uid: { type: "string", description: "Only events sent by this uid or login (kernel-attested peer)", valueHint: "UID" },
  exe: { type: "string", description: "Sender's executable, a GLOB on its path (on its base name when the pattern has no '/')", valueHint: "GLOB" },
} as const;

export const formatArgs = {
  json: { type: "boolean", description: "Print one JSON array of the stored receipts" },
  jsonl: { type: "boolean", description: "Print one stored receipt per line (JSON Lines), unchanged" },
} as const;

export interface FilterFlags {
  chain?: string;
  since?: string;
  until?: string;
  session?: string;
  channel?: string;
  tool?: string;
  type?: string;
  risk?: string;
  status?: string;
  agent?: string;
  uid?: string;
  exe?: string;
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === "") throw new UserFacingError(`--${flag} is empty; give a value or leave the flag out.`);
  return value;
}

function timeOf(flag: string, value: string | undefined, now: Date): Date | undefined {
  if (nonEmpty(flag, value) === undefined) return undefined;
  const t = parseTime(value!, now);
  if (t === undefined) throw new UserFacingError(`--${flag} "${value}" is not a time: give ${TIME_HELP}.`);
  return t;
}

function uidOf(value: string | undefined): number | undefined {
  if (nonEmpty("uid", value) === undefined) return undefined;
  if (/^[0-9]+$/.test(value!)) {
    const n = Number(value);
    if (n < 2 ** 32) return n;
  }
  const uid = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/.test(value!) ? uidOfLogin(value!) : undefined;
  if (uid === undefined) throw new UserFacingError(`--uid "${value}" is neither a numeric uid nor a login on this machine: give the uid number.`);
  return uid;
}

export function filterOf(flags: FilterFlags, now: Date): ReceiptFilter {
  const f: ReceiptFilter = {};
  const strings = ["chain", "session", "channel", "tool", "type", "agent", "exe"] as const;
  for (const k of strings) {
    const v = nonEmpty(k, flags[k]);
    if (v !== undefined) f[k] = v;
  }
  const since = timeOf("since", flags.since, now);
  const until = timeOf("until", flags.until, now);
  if (since !== undefined) f.since = since;
  if (until !== undefined) f.until = until;
  if (since !== undefined && until !== undefined && since >= until) {
    throw new UserFacingError(`--since (${since.toISOString()}) is not before --until (${until.toISOString()}): nothing can match; swap them or widen the window.`);
  }
  // The parser already checked the enums.
  if (flags.risk !== undefined) f.risk = flags.risk as ReceiptFilter["risk"];
  if (flags.status !== undefined) f.status = flags.status as ReceiptFilter["status"];
  const uid = uidOf(flags.uid);
  if (uid !== undefined) f.uid = uid;
  return f;
}

export type OutputFormat = "table" | "json" | "jsonl";

export function formatOf(flags: { json?: boolean; jsonl?: boolean }): OutputFormat {
  if (flags.json && flags.jsonl) throw new UserFacingError("--json and --jsonl are exclusive: choose one array (--json) or one receipt per line (--jsonl).");
  return flags.json ? "json" : flags.jsonl ? "jsonl" : "table";
}

/** A whole number of at least `min` given to `flag`, or `fallback` when absent. */
export function countOf(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UserFacingError(`${flag} takes a whole number${min > 0 ? ` of at least ${min}` : ""}, not "${value}".`);
  }
  return Number(value);
}
