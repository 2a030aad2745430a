// How verify reports the transparency log: a few lines for people (what is
// proven, what is not, and any TRUNCATED / FORKED verdict with the sizes and
// roots involved), one `log` object for scripts (snake_case, fields only added).
import type { CheckpointVerdict, LogCheck } from "./log-check.ts";

export interface CheckpointVerdictJson {
  source: string;
  state: CheckpointVerdict["state"];
  origin: string;
  size: number;
  root: string;
  db_root?: string;
  created_at?: string;
  witnesses?: string[];
  detail: string;
}

export interface LogJson {
  present: boolean;
  verdict: LogCheck["verdict"];
  tree_size: number;
  receipts: number;
  unlogged: number;
  tree_problems: string[];
  missing: number;
  tail_cut: boolean;
  checkpoints: number;
  newest_checkpoint: { size: number; created_at: string; origin: string; covers: number; after: number } | null;
  checkpoint_problems: CheckpointVerdictJson[];
  external: CheckpointVerdictJson[];
  witnessed: CheckpointVerdictJson | null;
}

function verdictJson(v: CheckpointVerdict): CheckpointVerdictJson {
  const out: CheckpointVerdictJson = { source: v.source, state: v.state, origin: v.origin, size: v.size, root: v.root, detail: v.detail };
  if (v.dbRoot !== undefined) out.db_root = v.dbRoot;
  if (v.createdAt !== undefined) out.created_at = v.createdAt;
  if (v.witnesses !== undefined) out.witnesses = v.witnesses;
  return out;
}

export function logJson(c: LogCheck): LogJson {
  const newest = c.stored.newest;
  return {
    present: c.present,
    verdict: c.verdict,
    tree_size: c.treeSize,
    receipts: c.receipts,
    unlogged: c.unlogged,
    tree_problems: c.treeProblems,
    missing: c.missing,
    tail_cut: c.tailCut,
    checkpoints: c.stored.count,
    newest_checkpoint: newest === null ? null : { size: newest.size, origin: newest.origin, created_at: newest.createdAt, covers: Math.min(newest.size, c.receipts), after: Math.max(0, c.receipts - newest.size) },
    checkpoint_problems: c.stored.problems.map(verdictJson),
    external: c.external.map(verdictJson),
    witnessed: c.witnessed === null ? null : verdictJson(c.witnessed),
  };
}

const LABEL: Record<CheckpointVerdict["state"], string> = {
  consistent: "consistent",
  truncated: "TRUNCATED",
  forked: "FORKED",
  bad_signature: "BAD SIGNATURE",
  malformed: "MALFORMED",
  unwitnessed: "UNWITNESSED",
};

function describe(v: CheckpointVerdict): string {
  const where = v.source === "database" ? "stored checkpoint" : `checkpoint ${v.source}`;
  const what = v.size >= 0 ? ` (size ${v.size}, root ${v.root}${v.createdAt ? `, ${v.createdAt}` : ""})` : "";
  const wit = v.witnesses !== undefined && v.witnesses.length > 0 ? `; cosigned by ${v.witnesses.join(", ")}` : "";
  return `${LABEL[v.state]}  ${where}${what}${v.detail ? `: ${v.detail}` : ""}${wit}`;
}

const MAX_SHOWN = 5;

export function formatLog(c: LogCheck): string {
  if (!c.present) {
    const lines = ["log: this database has no transparency log (written before it; the daemon builds it at its next start): a cut-off tail would not show"];
    if (c.external.length > 0 || c.verdict === "broken") lines.push("BROKEN  log: a checkpoint was given but the database has no log to hold it against");
    return `${lines.join("\n")}\n`;
  }
  const lines: string[] = [];
  const newest = c.stored.newest;
  lines.push(
    `log: ${c.receipts} receipt(s) in commit order; stored tree of ${c.treeSize} leaves ${c.treeProblems.length === 0 ? "matches them" : "DOES NOT match them"}; ${c.stored.count} stored checkpoint(s)` +
      (c.stored.problems.length === 0 ? (c.stored.count > 0 ? ", all signed and consistent" : "") : `, ${c.stored.problems.length} not consistent`),
  );
  if (c.unlogged > 0) lines.push(`warning: ${c.unlogged} receipt(s) are not in the tree yet (committed while the log was off); the daemon adds them at its next start`);
  for (const p of c.treeProblems) lines.push(`  tree: ${p}`);
  for (const v of c.stored.problems.slice(0, MAX_SHOWN)) lines.push(describe(v));
  if (c.stored.problems.length > MAX_SHOWN) lines.push(`  ... and ${c.stored.problems.length - MAX_SHOWN} more stored checkpoints (--json lists them)`);
  if (newest !== null) {
    const after = Math.max(0, c.receipts - newest.size);
    lines.push(`log: the newest checkpoint (${newest.origin}, ${newest.createdAt}) covers ${Math.min(newest.size, c.receipts)} of ${c.receipts} receipt(s); ${after} came after it`);
  } else if (c.receipts > 0) {
    lines.push("log: no checkpoint yet: nothing vouches for the tail");
  }
  const shown = c.external.filter((v) => v.state !== "consistent");
  for (const v of shown.slice(0, MAX_SHOWN)) lines.push(describe(v));
  if (shown.length > MAX_SHOWN) lines.push(`  ... and ${shown.length - MAX_SHOWN} more given checkpoints not consistent (--json lists them)`);
  const goodExternal = c.external.filter((v) => v.state === "consistent");
  if (goodExternal.length > 0) {
    const biggest = goodExternal.reduce((a, b) => (b.size > a.size ? b : a));
    lines.push(`log: consistent with ${goodExternal.length} checkpoint(s) given; the largest, ${biggest.source} (size ${biggest.size}), proves no receipt it covers was removed or changed`);
  }
  if (c.witnessed !== null) {
    lines.push(`log: the newest witnessed checkpoint (size ${c.witnessed.size}, cosigned by ${c.witnessed.witnesses?.join(", ")}) is ${LABEL[c.witnessed.state]}`);
  }
  lines.push(guarantee(c));
  return `${lines.join("\n")}\n`;
}

/** Which guarantee the verdict has and which it lacks, in one line. */
function guarantee(c: LogCheck): string {
  switch (c.verdict) {
    case "truncated":
      return c.external.some((v) => v.state === "truncated") || c.stored.problems.some((v) => v.state === "truncated")
        ? "TRUNCATED  receipts a checkpoint covers are missing from the database (exit 1)"
        : `TRUNCATED  the log's last ${c.missing} leaves have no receipt any more: the tail was cut off (exit 1)`;
    case "forked":
      return "FORKED  the database's receipts do not give a checkpoint's root: the log was rewritten (exit 1)";
    case "broken":
      return "BROKEN  the log does not hold together (see above) (exit 1)";
    default:
      break;
  }
  if (c.external.length > 0 || c.witnessed !== null) {
    return "guarantee: no receipt covered by a checkpoint kept outside this database was removed or changed; receipts after it are vouched for by the database alone";
  }
  return "guarantee: every receipt is in the log and every stored checkpoint holds; lacking: a checkpoint kept elsewhere (--checkpoint FILE) or witnessed (--witness VKEY), without which receipts removed together with their checkpoints would not show";
}

/** Nothing to say: an empty database with an empty log and no checkpoint given. */
export function logIsSilent(c: LogCheck): boolean {
  return c.present && c.receipts === 0 && c.treeSize === 0 && c.stored.count === 0 && c.external.length === 0 && c.witnessed === null && c.verdict === "ok";
}

/**
 * The chains' report with the log's lines: before its last line (the summary)
 * when the log holds, after it when it does not, so the last line is always
 * the verdict that decides the exit code.
 */
export function withLog(chainsText: string, c: LogCheck): string {
  if (logIsSilent(c)) return chainsText;
  const log = formatLog(c);
  if (c.verdict !== "ok" && c.verdict !== "absent") return chainsText + log;
  const lines = chainsText.split("\n");
  if (lines.length < 2) return chainsText + log;
  const summary = lines.slice(-2).join("\n");
  return `${lines.slice(0, -2).join("\n")}${lines.length > 2 ? "\n" : ""}${log}${summary}`;
}
