// How receipts are printed by `list` and `tail`: an aligned table for people
// (sequence, with --verify the signature's verdict, local time, risk, status,
// action type, tool, session, the sender's executable, and the chain when
// there are several), or the stored JSON unchanged for programs.
import { basename } from "node:path";
import type { Paint } from "../cli/color.ts";
import { detailsOf, type StoredReceipt } from "../query/record.ts";
import { layout, line, type Column, type Layout } from "./table.ts";

type Key = "seq" | "sig" | "time" | "risk" | "status" | "type" | "tool" | "session" | "exe" | "chain";

const COLUMNS: Array<Column & { key: Key }> = [
  // `expect`: the width of the values to come, so a followed table that starts empty does not cut them.
  { key: "seq", header: "SEQ", right: true, expect: 5 },
  // With --verify: "ok" or "BAD", never left out.
  { key: "sig", header: "SIG" },
  { key: "time", header: "TIME", expect: "YYYY-MM-DD HH:MM:SS".length },
  { key: "risk", header: "RISK", expect: "critical".length },
  { key: "status", header: "STATUS", dropOrder: 3, expect: "failure".length },
  { key: "type", header: "TYPE", flexible: true, min: 10, expect: 24 },
  { key: "tool", header: "TOOL", flexible: true, min: 8, expect: 14 },
  { key: "session", header: "SESSION", flexible: true, min: 10, expect: 12, dropOrder: 5 },
  { key: "exe", header: "EXE", flexible: true, min: 10, expect: 12, dropOrder: 4 },
  { key: "chain", header: "CHAIN", flexible: true, min: 10, expect: 12, dropOrder: 2 },
];

const two = (n: number) => String(n).padStart(2, "0");

const day = (d: Date) => `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;

/**
 * `YYYY-MM-DD HH:MM:SS` in this machine's time zone, or only `HH:MM:SS` when
 * `today` is that day; the stored text when it is not a time.
 */
export function localTime(iso: string, today?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return day(d) === today ? time : `${day(d)} ${time}`;
}

/** Today's local date when every receipt is from today (the table then shows times only), else undefined. */
function onlyToday(receipts: readonly StoredReceipt[], now: Date): string | undefined {
  const today = day(now);
  return receipts.every((r) => day(new Date(r.timestamp)) === today) ? today : undefined;
}

function cellsOf(columns: ReadonlyArray<{ key: Key }>, r: StoredReceipt, today: string | undefined, sig: string): string[] {
  const d = detailsOf(r.json);
  const cell: Record<Key, () => string> = {
    seq: () => String(r.sequence),
    sig: () => sig,
    time: () => localTime(r.timestamp, today),
    risk: () => r.riskLevel,
    status: () => r.status,
    type: () => r.actionType,
    tool: () => r.toolName,
    session: () => d.sessionId ?? "-",
    exe: () => (d.exePath === undefined ? "-" : basename(d.exePath)),
    chain: () => r.chainId,
  };
  return columns.map((c) => cell[c.key]());
}

function styler(columns: ReadonlyArray<{ key: Key }>, paint: Paint) {
  return (column: number, padded: string, raw: string): string => {
    const key = columns[column]!.key;
    if (raw === "-") return paint.dim(padded);
    if (key === "risk" && (raw === "high" || raw === "critical")) return paint.bold(padded);
    if (key === "status" && raw === "failure") return paint.bold(padded);
    if (key === "sig" && raw === "BAD") return paint.bold(padded);
    return padded;
  };
}

export interface TableOptions {
  /** A chain column (the rows come from several chains, or a followed stream). */
  chainColumn: boolean;
  follow: boolean;
  /** A SIG column (--verify): rows() is then given each receipt's verdict. */
  signatures?: boolean;
}

/** A table printer whose columns are fixed by the rows it is first given (and room for more), for printing in pieces. */
export class ReceiptTable {
  private readonly layout: Layout;
  private readonly columns: Array<Column & { key: Key }>;
  /** Set when all rows are today's and the stream is not followed: times without the date. */
  private readonly today: string | undefined;

  constructor(first: readonly StoredReceipt[], width: number, private readonly paint: Paint, opts: TableOptions) {
    const columns = COLUMNS.filter((c) => (c.key !== "chain" || opts.chainColumn) && (c.key !== "sig" || opts.signatures === true));
    // A followed stream plans room for values it has not seen yet.
    this.columns = opts.follow ? columns : columns.map((c) => ({ ...c, expect: 0 }));
    this.today = opts.follow ? undefined : onlyToday(first, new Date());
    // "BAD" is as wide as the header: the verdicts do not change the layout.
    this.layout = layout(this.columns, first.map((r) => cellsOf(this.columns, r, this.today, "BAD")), width);
  }

  header(): string {
    return `${this.paint.bold(line(this.columns, this.layout, this.columns.map((c) => c.header)))}\n`;
  }

  /** The rows; with a SIG column, `problems[i]` is null when receipt i's signature verifies (SignatureChecks.check). */
  rows(receipts: readonly StoredReceipt[], problems?: ReadonlyArray<string | null>): string {
    const style = styler(this.columns, this.paint);
    return receipts
      .map((r, i) => `${line(this.columns, this.layout, cellsOf(this.columns, r, this.today, problems?.[i] === null ? "ok" : "BAD"), style)}\n`)
      .join("");
  }
}

/** The stored texts as one JSON array (each element unchanged). */
export function jsonArray(receipts: readonly StoredReceipt[]): string {
  return receipts.length === 0 ? "[]\n" : `[\n${receipts.map((r) => r.json).join(",\n")}\n]\n`;
}

export function jsonLines(receipts: readonly StoredReceipt[]): string {
  return receipts.map((r) => `${r.json}\n`).join("");
}

/** Whether the receipts come from more than one chain (then the table shows a chain column). */
export function severalChains(receipts: readonly StoredReceipt[]): boolean {
  return receipts.some((r) => r.chainId !== receipts[0]!.chainId);
}
