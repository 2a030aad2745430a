// One line of `doctor`: a named check, its verdict, what it found, and the
// fix when it is not ok.
export type Level = "ok" | "warn" | "fail";

export interface CheckResult {
  /** Stable snake_case id (README: doctor --json). */
  name: string;
  level: Level;
  message: string;
  fix: string | null;
}

export const ok = (name: string, message: string): CheckResult => ({ name, level: "ok", message, fix: null });
export const warn = (name: string, message: string, fix: string | null = null): CheckResult => ({ name, level: "warn", message, fix });
export const fail = (name: string, message: string, fix: string | null): CheckResult => ({ name, level: "fail", message, fix });
