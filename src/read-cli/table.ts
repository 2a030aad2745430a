// An aligned text table that fits a given width: the widest flexible columns
// give up characters first (cut with "…"), and if that is not enough the
// least important columns are left out.

export interface Column {
  header: string;
  /** Right-aligned (numbers). */
  right?: boolean;
  /** May be cut down to `min` characters. */
  flexible?: boolean;
  min?: number;
  /** Left out first when even cut columns do not fit: higher goes first; 0 never. */
  dropOrder?: number;
  /** Width to plan for when rows arrive later (a followed stream), besides the rows seen. */
  expect?: number;
}

export interface Layout {
  /** Indexes of the columns shown, in order. */
  shown: number[];
  widths: number[];
}

const GAP = 2;

function len(s: string): number {
  return [...s].length;
}

export function cut(s: string, width: number): string {
  const chars = [...s];
  if (chars.length <= width) return s;
  return width <= 1 ? chars.slice(0, width).join("") : `${chars.slice(0, width - 1).join("")}…`;
}

export function layout(columns: readonly Column[], rows: readonly string[][], width: number): Layout {
  let shown = columns.map((_, i) => i);
  for (;;) {
    const widths = shown.map((i) => Math.max(len(columns[i]!.header), columns[i]!.expect ?? 0, ...rows.map((r) => len(r[i] ?? ""))));
    const total = () => widths.reduce((a, b) => a + b, 0) + GAP * (shown.length - 1);
    // Cut the widest flexible column by one until it all fits, none below `floor`.
    const shrink = (floor: (c: Column) => number) => {
      while (total() > width) {
        let widest = -1;
        shown.forEach((ci, k) => {
          const c = columns[ci]!;
          if (c.flexible && widths[k]! > floor(c) && (widest < 0 || widths[k]! > widths[widest]!)) widest = k;
        });
        if (widest < 0) return;
        widths[widest]!--;
      }
    };
    shrink((c) => c.min ?? 4);
    if (total() <= width) return { shown, widths };
    const droppable = shown.filter((i) => (columns[i]!.dropOrder ?? 0) > 0);
    if (droppable.length === 0) {
      // A very narrow terminal: cut further rather than wrap.
      shrink(() => 3);
      return { shown, widths };
    }
    const first = droppable.reduce((a, b) => ((columns[b]!.dropOrder ?? 0) > (columns[a]!.dropOrder ?? 0) ? b : a));
    shown = shown.filter((i) => i !== first);
  }
}

/** One line of the table; `style` colours a cell after padding (colour codes take no width). */
export function line(
  columns: readonly Column[], l: Layout, cells: readonly string[], style: (column: number, padded: string, raw: string) => string = (_c, p) => p,
): string {
  const parts = l.shown.map((ci, k) => {
    const w = l.widths[k]!;
    const raw = cut(cells[ci] ?? "", w);
    const pad = " ".repeat(w - len(raw));
    // No trailing spaces: the last column is not padded on the right.
    const last = k === l.shown.length - 1;
    return style(ci, columns[ci]!.right ? pad + raw : last ? raw : raw + pad, raw);
  });
  return parts.join(" ".repeat(GAP));
}
