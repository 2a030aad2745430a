// Memory held for incomplete frames, across all connections. Each connection
// may hold one partial frame of up to 1 MiB; without a global cap, 3,000
// peers each announcing 1 MiB took the daemon to 3.76 GB. Past the cap the
// connections holding the largest partial frames are named for closing
// (among equals the newest first, so frames already under way can finish).

export class PartialBudget<K> {
  /** Bytes held per key, in the order keys started holding any. */
  private readonly held = new Map<K, number>();
  private heldTotal = 0;

  constructor(readonly limit: number) {}

  get total(): number {
    return this.heldTotal;
  }

  /** Records that `key` now holds `bytes`; returns the keys to close so that the total fits the limit again. */
  set(key: K, bytes: number): K[] {
    const before = this.held.get(key) ?? 0;
    this.heldTotal += bytes - before;
    if (bytes === 0) this.held.delete(key);
    else this.held.set(key, bytes); // a key already held keeps its place in the order
    return this.heldTotal > this.limit ? this.overflow() : [];
  }

  delete(key: K): void {
    this.set(key, 0);
  }

  private overflow(): K[] {
    const byOrder = [...this.held.entries()].map(([key, bytes], order) => ({ key, bytes, order }));
    byOrder.sort((a, b) => b.bytes - a.bytes || b.order - a.order);
    const victims: K[] = [];
    let total = this.heldTotal;
    for (const v of byOrder) {
      if (total <= this.limit) break;
      victims.push(v.key);
      total -= v.bytes;
    }
    return victims;
  }
}
