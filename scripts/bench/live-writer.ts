// Bench writer process for `tail -f`: commits real signed receipts with the
// daemon's own chain writer at a steady rate, and after each commit prints
// "<first sequence> <last sequence> <commit time, epoch ms>" so the bench
// can measure commit-to-print for every receipt. Stops on SIGTERM.
//
//   bun scripts/bench/live-writer.ts <db> <key> <chain id> <receipts per second> <per commit>
import { readFileSync } from "node:fs";
import { frame, openChainWriter, TEST_PEER } from "../../tests/helpers/fixtures.ts";

const [db, keyPath, chainId, rateArg, perCommitArg] = process.argv.slice(2);
const rate = Number(rateArg);
const perCommit = Number(perCommitArg);
const now = () => performance.timeOrigin + performance.now();

const { store, writer } = openChainWriter(db!, readFileSync(keyPath!, "utf8"), chainId!);
let stop = false;
process.on("SIGTERM", () => {
  stop = true;
});
const start = now();
let n = 0;
while (!stop) {
  const events = [];
  for (let i = 0; i < perCommit; i++) events.push({ no: n + i, frame: frame(n + i), peer: TEST_PEER });
  writer.commit(events);
  process.stdout.write(`${n + 1} ${n + perCommit} ${now().toFixed(3)}\n`);
  n += perCommit;
  const due = start + (n / rate) * 1000;
  const wait = due - now();
  if (wait > 0) await Bun.sleep(wait);
}
store.close();
