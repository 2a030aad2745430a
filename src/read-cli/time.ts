// Time expressions for --since and --until: RFC 3339 (a zone, or local time
// when it has none), a date (local midnight), a relative time before now
// (`90s`, `15m`, `2h`, `3d`, `1w`), or now / today / yesterday.

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|z|[+-]\d{2}:\d{2})?)?$/;

function localMidnight(now: Date, daysBack: number): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() - daysBack);
}

/** The instant `text` names, or undefined when it is not a time expression. */
export function parseTime(text: string, now: Date): Date | undefined {
  const t = text.trim();
  if (t === "now") return now;
  if (t === "today") return localMidnight(now, 0);
  if (t === "yesterday") return localMidnight(now, 1);
  const rel = /^-?(\d+)\s*([smhdw])(?:\s+ago)?$/.exec(t);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2]!]!);
  const m = DATE_TIME.exec(t);
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone] = m;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  const ms = frac === "" ? 0 : Math.floor(Number(`0${frac}`) * 1000);
  let date: Date;
  if (zone === undefined) {
    date = new Date(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], ms);
    // A calendar check: Date rolls 2026-02-30 over into March.
    if (date.getFullYear() !== fields[0] || date.getMonth() !== fields[1] || date.getDate() !== fields[2] || date.getHours() !== fields[3] || date.getMinutes() !== fields[4]) return undefined;
  } else {
    const utc = Date.UTC(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], ms);
    const check = new Date(utc);
    if (check.getUTCFullYear() !== fields[0] || check.getUTCMonth() !== fields[1] || check.getUTCDate() !== fields[2] || check.getUTCHours() !== fields[3] || check.getUTCMinutes() !== fields[4]) return undefined;
    const offset = zone.toUpperCase() === "Z" ? 0 : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    date = new Date(utc - offset * 60_000);
  }
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export const TIME_HELP = "RFC 3339 (2026-11-28T10:00:00Z), a date (2026-11-28, local midnight), a relative time (15m, 2h, 3d), or now/today/yesterday";
