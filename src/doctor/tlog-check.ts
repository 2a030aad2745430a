// The transparency log: the newest stored checkpoint must verify under the
// public key and match the stored tree at its size (verify's own judgement of
// a stored checkpoint, src/verify/checkpoint-verdict.ts, on the root the
// stored tiles give); warnings when an anchor is failing (the daemon's status
// file) or when receipts wait in no checkpoint for longer than twice
// checkpoint_interval. `verify` rebuilds the whole tree from the receipts;
// this check reads a few tiles.
import { existsSync } from "node:fs";
import { DEFAULT_CHECKPOINT_INTERVAL } from "../daemon/config.ts";
import { loadPublicKey } from "../keys/key-files.ts";
import { rawPublicKey } from "../receipt/keys.ts";
import { ReadOnlyDatabase } from "../store/open-readonly.ts";
import { TreeStore } from "../store/tree-store.ts";
import { ago, age, count } from "../status/format.ts";
import { anchorState } from "../status/render.ts";
import { summarizeTlog, type TlogSummary } from "../status/tlog-summary.ts";
import { judgeStored, type CheckpointVerdict } from "../verify/checkpoint-verdict.ts";
import { fail, ok, warn, type CheckResult } from "./check.ts";
import type { DoctorContext } from "./context.ts";

const NAME = "transparency_log";
const EVIDENCE_FIX =
  'run "agent-receipts verify" (and "verify --checkpoint FILE" with copies kept elsewhere: an anchor file, the journal, a witness); keep the database as evidence (copy it) and find out who changed it';

const STATE_TEXT: Record<CheckpointVerdict["state"], string> = {
  bad_signature: "does not verify under the public key",
  forked: "does not match the stored tree",
  truncated: "covers more receipts than the stored tree holds",
  malformed: "is malformed",
  unwitnessed: "lacks witness cosignatures",
  consistent: "is consistent",
};

type Judged = { kind: "ok"; fingerprint: string } | { kind: "none" } | { kind: "bad"; result: CheckResult } | { kind: "unchecked"; why: string };

/** The newest stored checkpoint held against the public key and the stored tree. */
function judgeNewest(ctx: DoctorContext, reader: ReadOnlyDatabase, t: TlogSummary): Judged {
  const c = t.checkpoint;
  if (c === null) return { kind: "none" };
  let key;
  try {
    key = loadPublicKey(ctx.publicKey.path);
  } catch (err) {
    return { kind: "unchecked", why: `the newest checkpoint is not checked: ${(err as Error).message}` };
  }
  const store = TreeStore.open(reader.db)!;
  let roots: Map<number, Uint8Array>;
  try {
    roots = store.snapshot(() => (c.size >= 0 && c.size <= store.size ? new Map([[c.size, store.root(c.size)]]) : new Map()));
  } catch (err) {
    return {
      kind: "bad",
      result: fail(NAME, `the stored tree cannot give its root at the newest checkpoint's size ${count(c.size)}: ${(err as Error).message}`, EVIDENCE_FIX),
    };
  }
  const v = judgeStored(c, c.note, rawPublicKey(key.publicKey), t.treeSize, roots, null);
  if (v.state === "consistent") return { kind: "ok", fingerprint: key.fingerprint };
  const what = v.state === "bad_signature" ? `${STATE_TEXT[v.state]} ${ctx.publicKey.path} (${key.fingerprint})` : STATE_TEXT[v.state];
  return {
    kind: "bad",
    result: fail(NAME, `the newest stored checkpoint (size ${c.size < 0 ? "?" : count(c.size)}, signed ${c.createdAt}) ${what}: ${v.detail}`, EVIDENCE_FIX),
  };
}

export function tlogCheck(ctx: DoctorContext, now = new Date()): CheckResult {
  if (!existsSync(ctx.db.path)) return warn(NAME, `no database at ${ctx.db.path}: nothing to check`);
  // undefined: no running daemon says (none runs, or an older one); null: it runs with the log turned off.
  const live = ctx.daemon?.log;
  let reader: ReadOnlyDatabase;
  try {
    reader = new ReadOnlyDatabase(ctx.db.path);
  } catch (err) {
    // The database line already says why (and how to fix it).
    return warn(NAME, `not checked: ${(err as Error).message}`);
  }
  try {
    let t: TlogSummary | null;
    try {
      t = summarizeTlog(reader.db);
    } catch (err) {
      return fail(NAME, `the log's tables cannot be read: ${(err as Error).message}`, EVIDENCE_FIX);
    }
    if (t === null) {
      if (live === null) return ok(NAME, "turned off in the running daemon (transparency_log = false): no tree, no checkpoints");
      return ok(NAME, `${ctx.db.path} has no transparency log yet: the daemon adds it at its next start (unless transparency_log = false)`);
    }
    const judged = judgeNewest(ctx, reader, t);
    if (judged.kind === "bad") return judged.result;

    const warnings: Array<{ message: string; fix: string }> = [];
    for (const a of live?.anchors ?? []) {
      if (a.failed_attempts > 0) {
        warnings.push({
          message: `anchor ${a.name} is ${anchorState(a)}`,
          fix: "see the daemon's log (anchor_failed): a file: anchor's file must be writable by the daemon's user; a witness must be up and trust this log's vkey (log.vkey beside the public key)",
        });
      }
    }
    const interval = live?.checkpoint_interval ?? ctx.config.values.checkpoint_interval ?? DEFAULT_CHECKPOINT_INTERVAL;
    const waiting = t.oldestUncoveredAt === null ? null : (now.getTime() - Date.parse(t.oldestUncoveredAt)) / 1000;
    if (live !== null && waiting !== null && waiting > 2 * interval) {
      const running = ctx.found.daemon !== null;
      warnings.push({
        message: `${count(t.uncovered)} ${t.uncovered === 1 ? "receipt is" : "receipts are"} in no checkpoint, the oldest dated ${t.oldestUncoveredAt} (${ago(waiting)}), though one is due within checkpoint_interval (${age(interval)})`,
        fix: running ? "see the daemon's log (checkpoint_failed, tlog_inconsistent)" : "start the daemon: it signs a checkpoint covering them at start",
      });
    }
    if (judged.kind === "unchecked") warnings.push({ message: judged.why, fix: "see the public_key line" });
    if (warnings.length > 0) return warn(NAME, warnings.map((w) => w.message).join("; "), [...new Set(warnings.map((w) => w.fix))].join("; "));

    const parts = [`${t.origin ?? live?.origin ?? "the log"}: ${count(t.treeSize)} ${t.treeSize === 1 ? "receipt" : "receipts"} in the tree`];
    const c = t.checkpoint;
    if (c === null) parts.push("no checkpoint yet");
    else if (judged.kind === "ok") parts.push(`the newest checkpoint (size ${count(c.size)}, ${ago((now.getTime() - Date.parse(c.createdAt)) / 1000)}) verifies under ${judged.fingerprint} and matches the stored tree`);
    if (t.witnesses.length > 0) parts.push(`cosigned by ${t.witnesses.map((w) => `${w.key_name} (up to ${count(w.size)})`).join(", ")}`);
    if (live === null) parts.push("turned off in the running daemon (transparency_log = false)");
    else if (live !== undefined) parts.push(live.anchors.length === 0 ? "no anchors configured" : `${live.anchors.length === 1 ? "its anchor is" : `all ${live.anchors.length} anchors are`} ok`);
    return ok(NAME, parts.join("; "));
  } finally {
    reader.close();
  }
}
