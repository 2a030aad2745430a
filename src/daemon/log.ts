// One structured line per event of note, on stderr. Callers pass only
// metadata: never a key, never a raw payload.
import type { LogFormat } from "./config.ts";

export type LogLevel = "info" | "warn" | "error";
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

function textValue(v: string | number | boolean): string {
  const s = String(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

/** A log line stays short whatever a caller passes: longer values are cut, saying by how much. */
export const MAX_VALUE_CHARS = 1024;

function bounded(v: string | number | boolean): string | number | boolean {
  if (typeof v !== "string" || v.length <= MAX_VALUE_CHARS) return v;
  return `${v.slice(0, MAX_VALUE_CHARS)}... (${v.length - MAX_VALUE_CHARS} more characters)`;
}

export function createLogger(format: LogFormat, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const emit = (level: LogLevel, event: string, fields: LogFields = {}) => {
    const time = new Date().toISOString();
    const defined = Object.entries(fields)
      .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
      .map(([k, v]): [string, string | number | boolean] => [k, bounded(v)]);
    if (format === "json") {
      write(`${JSON.stringify({ time, level, event, ...Object.fromEntries(defined) })}\n`);
    } else {
      write(`${time} ${level.toUpperCase().padEnd(5)} ${event}${defined.map(([k, v]) => ` ${k}=${textValue(v)}`).join("")}\n`);
    }
  };
  return {
    info: (e, f) => emit("info", e, f),
    warn: (e, f) => emit("warn", e, f),
    error: (e, f) => emit("error", e, f),
  };
}
