// The `status` screen: a headline (running or not), then one labelled line
// per fact, a fix under anything that needs one.
import type { Paint } from "../cli/color.ts";
import { ago, bytes, count } from "./format.ts";
import type { StatusJson, TransparencyLogJson } from "./report.ts";
import type { StatusFileAnchor } from "./status-file.ts";

const LABEL = 11;

export function renderStatus(s: StatusJson, p: Paint, now = new Date()): string {
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`  ${p.dim(label.padEnd(LABEL))}${text}`);
  const fix = (text: string | null) => {
    if (text !== null) lines.push(`  ${" ".repeat(LABEL)}${p.bold("fix:")} ${text}`);
  };

  const d = s.daemon;
  if (s.running) {
    const since = d === null ? "" : `, pid ${d.pid}, version ${d.version}, since ${d.started_at} (${ago((now.getTime() - Date.parse(d.started_at)) / 1000)})`;
    lines.push(`${p.accent("●")} ${p.bold("agent-receipts daemon:")} ${p.accent("running")}${since}`);
  } else {
    lines.push(`○ ${p.bold("agent-receipts daemon:")} not running`);
  }
  if (s.daemon_note !== null) row("note", s.daemon_note);
  if (d !== null) {
    row("socket", d.socket);
    if (d.config !== null) row("config", d.config);
  }
  row("this shell", s.connection.ok ? `connects (${s.connection.socket})` : `cannot connect: ${s.connection.message}`);
  fix(s.connection.fix);

  const db = s.database;
  const size = db.size_bytes === null ? "" : ` (${bytes(db.size_bytes)})`;
  row("database", `${db.path}${size}${db.path_from === "default" || db.path_from === "the running daemon" ? "" : `, from ${db.path_from}`}`);
  if (db.error !== null) row("", `cannot read: ${db.error}`);
  if (d !== null) row("chain", `${d.chain_id} (the daemon's root chain in this run)`);
  const h = s.chain_head;
  if (h !== null) row("last", `chain ${h.chain_id} sequence ${h.sequence}, ${h.timestamp} (${ago(h.age_seconds)})`);
  else if (db.readable) row("last", "no receipts yet");
  if (s.receipts !== null) row("receipts", `${count(s.receipts.total)} in total, ${count(s.receipts.last_hour)} in the last hour`);
  if (s.events_dropped !== null) {
    const e = s.events_dropped;
    row("dropped", e.receipts === 0
      ? "no events_dropped receipts (no emitter reported a lost event)"
      : `${count(e.receipts)} events_dropped ${e.receipts === 1 ? "receipt" : "receipts"}: emitters lost ${count(e.events)} ${e.events === 1 ? "event" : "events"} before delivery`);
  }
  const k = s.key;
  if (k.fingerprint !== null) {
    const differs = k.daemon_fingerprint !== null && k.daemon_fingerprint !== k.fingerprint;
    row("key", `${k.fingerprint} (${k.public_key})${differs ? `; the daemon signs with ${k.daemon_fingerprint}` : ""}`);
  } else if (k.daemon_fingerprint !== null) {
    row("key", `${k.daemon_fingerprint} (the daemon's; public key ${k.public_key}: ${k.error})`);
  } else {
    row("key", `unknown: ${k.error}`);
  }
  if (s.transparency_log !== null) logRows(s.transparency_log, row, fix);
  return `${lines.join("\n")}\n`;
}

/** "ok, 12 published, the newest at size 1,200" or "failing: 3 attempts in a row (5 in all), last: <error>". */
export function anchorState(a: StatusFileAnchor): string {
  if (a.failed_attempts > 0) {
    return `failing: ${count(a.failed_attempts)} failed ${a.failed_attempts === 1 ? "attempt" : "attempts in a row"}${a.failures > a.failed_attempts ? ` (${count(a.failures)} in all)` : ""}, last: ${a.last_error ?? "unknown error"}`;
  }
  if (a.last_published_size === null) return "ok, nothing to publish yet";
  return `ok, ${count(a.published)} published, the newest at size ${count(a.last_published_size)}`;
}

function logRows(t: TransparencyLogJson, row: (label: string, text: string) => void, fix: (text: string | null) => void): void {
  const notInTree = t.not_in_tree > 0 ? `, ${count(t.not_in_tree)} not yet (added at the daemon's next start)` : "";
  const off = t.daemon_enabled === false ? "; turned off in the running daemon (transparency_log = false)" : "";
  row("log", `${t.origin ?? "origin not known yet"}: ${count(t.tree_size)} ${t.tree_size === 1 ? "receipt" : "receipts"} in the tree${notInTree}${off}`);
  const pending = t.not_in_checkpoint === 0 ? "every receipt covered" : `${count(t.not_in_checkpoint)} ${t.not_in_checkpoint === 1 ? "receipt" : "receipts"} in no checkpoint yet`;
  const c = t.checkpoint;
  row("checkpoint", c === null ? `none yet; ${pending}` : `size ${count(c.size)}, signed ${c.created_at} (${ago(c.age_seconds)}); ${pending}`);
  if (t.cosignatures.length > 0) {
    row("cosigned", t.cosignatures.map((w) => `${w.key_name} up to size ${count(w.size)} (${count(w.count)} stored)`).join("; "));
  }
  for (const a of t.anchors ?? []) {
    row("anchor", `${a.name}: ${anchorState(a)}`);
    if (a.failed_attempts > 0) fix(`see the daemon's log (anchor_failed); it retries with backoff up to every minute`);
  }
}
