// Chain id rules of docs/protocol.md §6.

/** Default root chain id: the UTC date at daemon start. */
export function dateChainId(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/**
 * The n-th continuation of a chain id: X, X-2, X-3... The suffix is always
 * appended to the configured base, so only a suffix the daemon added is ever
 * incremented (a plain date id is never read as a number).
 */
export function continuationId(base: string, n: number): string {
  return n <= 1 ? base : `${base}-${n}`;
}
