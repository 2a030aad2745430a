// The `status` screen: a headline (running or not), then one labelled line
// per fact, a fix under anything that needs one.
import type { Paint } from "../cli/color.ts";
import { ago, bytes, count } from "./format.ts";
import type { StatusJson } from "./report.ts";

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
  return `${lines.join("\n")}\n`;
}
