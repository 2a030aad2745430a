// The GC pacer collects only when RSS reached its limit (checked every MiB
// relayed), and never over and over when a collection leaves RSS above it.
import { afterEach, expect, test } from "bun:test";
import { GcPacer } from "../../src/mcp-proxy/gc-pacer.ts";

const MiB = 1024 * 1024;
const realRss = process.memoryUsage.rss;
const realGc = Bun.gc;
afterEach(() => {
  process.memoryUsage.rss = realRss;
  Bun.gc = realGc;
});

test("collects at the limit (48 MiB), then at 4 MiB above what the collection left when that is higher", () => {
  let rss = 40 * MiB;
  let leaves = 30 * MiB;
  let collections = 0;
  process.memoryUsage.rss = () => rss;
  Bun.gc = () => {
    collections++;
    rss = leaves;
    return 0;
  };
  const pacer = new GcPacer();
  try {
    const relay = (mib: number) => {
      for (let i = 0; i < mib * 4; i++) pacer.add(MiB / 4);
    };
    relay(8);
    expect(collections).toBe(0);
    rss = 48 * MiB;
    relay(0.75);
    expect(collections).toBe(0); // not checked before a whole MiB went through
    relay(0.25);
    expect(collections).toBe(1);

    // A collection that leaves 50 MiB moves the limit to 54 MiB.
    rss = 48 * MiB;
    leaves = 50 * MiB;
    relay(1);
    expect(collections).toBe(2);
    rss = 53 * MiB;
    relay(4);
    expect(collections).toBe(2);
    rss = 54 * MiB;
    leaves = 30 * MiB;
    relay(1);
    expect(collections).toBe(3);

    // Back to the plain limit once a collection leaves little.
    rss = 48 * MiB;
    relay(1);
    expect(collections).toBe(4);
  } finally {
    pacer.stop();
  }
});
