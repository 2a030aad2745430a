// A progress line on stderr for long chains, only when stderr is a terminal.
export const PROGRESS_THRESHOLD = 5000;

export function progressReporter(label: string, total: number | undefined): ((n: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  if (total !== undefined && total < PROGRESS_THRESHOLD) return undefined;
  const started = performance.now();
  let last = -Infinity;
  return (n: number) => {
    const now = performance.now();
    if (n < PROGRESS_THRESHOLD || (now - last < 250 && n !== total)) return;
    last = now;
    const rate = Math.round(n / ((now - started) / 1000));
    const of = total === undefined ? "" : ` / ${total}`;
    process.stderr.write(`\r\x1b[Kverifying ${label}: ${n}${of} receipts (${rate}/s)`);
    if (n === total) process.stderr.write("\n");
  };
}

export function endProgress(): void {
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
}
