// Reads and checks a policy file (TOML). Every problem is refused at start as
// one line naming the file, the line and the fix: syntax errors are located by
// parsing ever shorter prefixes of the file (Bun's TOML parser reports no
// line), semantic ones by finding the key in the rule's block.
//
//   default = "allow"              # when no rule matches: allow, deny or pause
//   pause_timeout_seconds = 120    # how long a paused call waits for approve/deny
//   [[rule]]
//   name = "no-deletes"            # required, unique; reported in error.data.rule
//   tool = ["delete_*", "rm"]      # globs; absent: any tool
//   server = "filesystem"          # globs; absent: any server
//   risk = ["high", "critical"]    # the daemon's risk level of the action type
//   action = "deny"                # allow, deny or pause
//   timeout_seconds = 30           # pause only
//   [[action_type]]
//   tool = "write_*"
//   type = "filesystem.file.modify"
import { readFileSync } from "node:fs";
import { UserFacingError } from "../errors.ts";
import type { RiskLevel } from "../receipt/types.ts";
import {
  DEFAULT_PAUSE_TIMEOUT_MS, POLICY_ACTIONS, RISK_LEVELS, globPattern,
  type ActionTypeRule, type Matcher, type Policy, type PolicyAction, type PolicyRule,
} from "./policy.ts";

const MAX_POLICY_BYTES = 64 * 1024;
const TOP_KEYS = ["default", "pause_timeout_seconds", "rule", "action_type"];
const RULE_KEYS = ["name", "tool", "server", "risk", "action", "timeout_seconds"];
const ACTION_TYPE_KEYS = ["tool", "server", "type"];
/** A day: longer than any client waits for a tool call. */
const MAX_TIMEOUT_SECONDS = 86_400;

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

class Located {
  private readonly lines: string[];
  constructor(private readonly file: string, text: string) {
    this.lines = text.split("\n");
  }

  /** Line (1-based) of the `index`-th [[section]] header, or 0. */
  header(section: string, index: number): number {
    const re = new RegExp(`^\\s*\\[\\[\\s*${section}\\s*\\]\\]`);
    let seen = -1;
    for (let i = 0; i < this.lines.length; i++) if (re.test(this.lines[i]!) && ++seen === index) return i + 1;
    return 0;
  }

  /** Line of `key = ...` in the block after line `from` (0: the top level), else the block's own line. */
  key(from: number, key: string): number {
    const k = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const re = new RegExp(`^\\s*("${k}"|'${k}'|${k})\\s*=`);
    for (let i = from; i < this.lines.length; i++) {
      if (/^\s*\[/.test(this.lines[i]!)) break;
      if (re.test(this.lines[i]!)) return i + 1;
    }
    return Math.max(from, 1);
  }

  problem(line: number, message: string): UserFacingError {
    return new UserFacingError(`policy ${this.file}:${line}: ${message}`);
  }
}

/** Smallest line number where the file stops parsing: every prefix up to the line before parses. */
function syntaxErrorLine(text: string): number {
  const lines = text.split("\n");
  for (let end = lines.length - 1; end >= 0; end--) {
    try {
      Bun.TOML.parse(lines.slice(0, end).join("\n"));
      return end + 1;
    } catch {
      // this prefix does not parse either: the problem is earlier
    }
  }
  return 1;
}

function stringList(v: unknown): string[] | null {
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === "string")) return v as string[];
  return null;
}

export function parsePolicy(text: string, file: string): Policy {
  const at = new Located(file, text);
  let doc: unknown;
  try {
    doc = Bun.TOML.parse(text);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(/^TOML Parse error:\s*/, "");
    throw at.problem(syntaxErrorLine(text), `not valid TOML: ${reason}`);
  }
  if (!isTable(doc)) throw at.problem(1, "must be a TOML document");
  for (const k of Object.keys(doc)) {
    if (!TOP_KEYS.includes(k)) throw at.problem(at.key(0, k), `unknown key "${k}"; the keys are ${TOP_KEYS.join(", ")}`);
  }

  const seconds = (v: unknown, line: number, name: string): number => {
    // At least a millisecond: the timer counts whole milliseconds, and 0 would refuse every paused call at once.
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0.001 || v > MAX_TIMEOUT_SECONDS) {
      throw at.problem(line, `${name} must be a number of seconds, from 0.001 to ${MAX_TIMEOUT_SECONDS} (got ${typeof v === "number" ? String(v) : JSON.stringify(v)})`);
    }
    return Math.round(v * 1000);
  };
  const action = (v: unknown, line: number, name: string): PolicyAction => {
    if (typeof v !== "string" || !(POLICY_ACTIONS as readonly string[]).includes(v)) {
      throw at.problem(line, `${name} must be one of ${POLICY_ACTIONS.join(", ")} (got ${JSON.stringify(v)})`);
    }
    return v as PolicyAction;
  };
  const matcher = (t: Table, start: number, what: string): Matcher => {
    const m: Matcher = { tools: null, servers: null };
    for (const [key, field] of [["tool", "tools"], ["server", "servers"]] as const) {
      if (t[key] === undefined) continue;
      const globs = stringList(t[key]);
      if (globs === null || globs.some((g) => g === "")) throw at.problem(at.key(start, key), `${what}: ${key} must be a non-empty glob or a list of them`);
      m[field] = globs.map(globPattern);
    }
    return m;
  };
  const unknownKeys = (t: Table, allowed: string[], start: number, what: string) => {
    for (const k of Object.keys(t)) {
      if (!allowed.includes(k)) throw at.problem(at.key(start, k), `${what}: unknown key "${k}"; the keys are ${allowed.join(", ")}`);
    }
  };
  const sections = (name: string): Table[] => {
    const v = doc[name];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every(isTable)) throw at.problem(at.key(0, name), `${name} must be written as [[${name}]] tables`);
    return v;
  };

  const pauseTimeoutMs = doc.pause_timeout_seconds === undefined
    ? DEFAULT_PAUSE_TIMEOUT_MS
    : seconds(doc.pause_timeout_seconds, at.key(0, "pause_timeout_seconds"), "pause_timeout_seconds");
  const fallbackAction = doc.default === undefined ? "allow" : action(doc.default, at.key(0, "default"), "default");

  const names = new Set<string>();
  const rules: PolicyRule[] = sections("rule").map((t, i) => {
    const start = at.header("rule", i);
    const what = `rule ${i + 1}`;
    unknownKeys(t, RULE_KEYS, start, what);
    if (typeof t.name !== "string" || t.name === "") throw at.problem(at.key(start, "name"), `${what}: name must be a non-empty string (it is reported to the client and in the receipt)`);
    if (names.has(t.name)) throw at.problem(at.key(start, "name"), `${what}: the name "${t.name}" is used by an earlier rule; names must be unique`);
    names.add(t.name);
    const label = `rule "${t.name}"`;
    if (t.action === undefined) throw at.problem(start, `${label}: action is missing (allow, deny or pause)`);
    let risks: RiskLevel[] | null = null;
    if (t.risk !== undefined) {
      const list = stringList(t.risk);
      const bad = list?.find((r) => !(RISK_LEVELS as readonly string[]).includes(r));
      if (list === null || bad !== undefined) {
        throw at.problem(at.key(start, "risk"), `${label}: risk must be one of ${RISK_LEVELS.join(", ")} or a list of them${bad ? ` (got "${bad}")` : ""}`);
      }
      risks = list as RiskLevel[];
    }
    const ruleAction = action(t.action, at.key(start, "action"), `${label}: action`);
    if (t.timeout_seconds !== undefined && ruleAction !== "pause") throw at.problem(at.key(start, "timeout_seconds"), `${label}: timeout_seconds applies only to action = "pause"`);
    const timeoutMs = t.timeout_seconds === undefined ? pauseTimeoutMs : seconds(t.timeout_seconds, at.key(start, "timeout_seconds"), `${label}: timeout_seconds`);
    return { name: t.name, ...matcher(t, start, label), risks, action: ruleAction, timeoutMs };
  });

  const actionTypes: ActionTypeRule[] = sections("action_type").map((t, i) => {
    const start = at.header("action_type", i);
    const what = `action_type ${i + 1}`;
    unknownKeys(t, ACTION_TYPE_KEYS, start, what);
    if (typeof t.type !== "string" || t.type === "") throw at.problem(at.key(start, "type"), `${what}: type must be a non-empty action type, e.g. "filesystem.file.modify"`);
    return { type: t.type, ...matcher(t, start, what) };
  });

  return { rules, actionTypes, fallback: { name: "default", tools: null, servers: null, risks: null, action: fallbackAction, timeoutMs: pauseTimeoutMs } };
}

export function loadPolicy(file: string): Policy {
  let text: string;
  try {
    const bytes = readFileSync(file);
    if (bytes.length > MAX_POLICY_BYTES) throw new UserFacingError(`policy ${file}: larger than ${MAX_POLICY_BYTES} bytes; a policy is a short list of rules`);
    text = bytes.toString("utf8");
  } catch (err) {
    if (err instanceof UserFacingError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new UserFacingError(`cannot read the policy ${file}: ${e.code === "ENOENT" ? "no such file" : e.message}; check --policy`);
  }
  return parsePolicy(text, file);
}
