// How receipts are printed by `list` and `tail`: an aligned table for people
// (sequence, local time, risk, status, action type, tool, session, the
// sender's executable, and the chain when there are several), or the stored
// JSON unchanged for programs.
import { basename } from "node:path";
import type { Paint } from "../cli/color.ts";
import { detailsOf, type StoredReceipt } from "../query/record.ts";
import { layout, line, type Column, type Layout } from "./table.ts";

const COLUMNS: Column[] = [
  { header: "SEQ", right: true },
  { header: "TIME" },
  { header: "RISK" },
  { header: "STATUS", dropOrder: 3 },
  { header: "TYPE", flexible: true, min: 12, expect: 24 },
  { header: "TOOL", flexible: true, min: 10, expect: 14 },
  { header: "SESSION", flexible: true, min: 10, expect: 12, dropOrder: 5 },
  { header: "EXE", flexible: true, min: 10, expect: 12, dropOrder: 4 },
  { header: "CHAIN", flexible: true, min: 10, expect: 12, dropOrder: 2 },
];
const CHAIN = 8;
const RISK = 2;
const STATUS = 3;

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

function cellsOf(r: StoredReceipt, today: string | undefined): string[] {
  const d = detailsOf(r.json);
  return [
    String(r.sequence), localTime(r.timestamp, today), r.riskLevel, r.status, r.actionType, r.toolName,
    d.sessionId ?? "-", d.exePath === undefined ? "-" : basename(d.exePath), r.chainId,
  ];
}

function styler(paint: Paint) {
  return (column: number, padded: string, raw: string): string => {
    if (raw === "-") return paint.dim(padded);
    if (column === RISK && (raw === "high" || raw === "critical")) return paint.bold(padded);
    if (column === STATUS && raw === "failure") return paint.bold(padded);
    return padded;
  };
}

/** A table printer whose columns are fixed by the rows it is first given (and room for more), for printing in pieces. */
export class ReceiptTable {
  private readonly layout: Layout;
  private readonly columns: Column[];
  /** Set when all rows are today's and the stream is not followed: times without the date. */
  private readonly today: string | undefined;

  constructor(first: readonly StoredReceipt[], width: number, private readonly paint: Paint, opts: { chainColumn: boolean; follow: boolean }) {
    const columns = opts.chainColumn ? COLUMNS : COLUMNS.slice(0, CHAIN);
    // A followed stream plans room for values it has not seen yet.
    this.columns = opts.follow ? columns : columns.map((c) => ({ ...c, expect: 0 }));
    this.today = opts.follow ? undefined : onlyToday(first, new Date());
    this.layout = layout(this.columns, first.map((r) => cellsOf(r, this.today)), width);
  }

  header(): string {
    return `${this.paint.bold(line(this.columns, this.layout, this.columns.map((c) => c.header)))}\n`;
  }

  rows(receipts: readonly StoredReceipt[]): string {
    const style = styler(this.paint);
    return receipts.map((r) => `${line(this.columns, this.layout, cellsOf(r, this.today), style)}\n`).join("");
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
