// A separate process holding a StoreWriter open and committing real signed
// receipts until SIGTERM: `bun live-writer.ts <db> <key> <chainId> <batch> <pauseMs>`.
// Prints "committed N" after each commit and "closed N" at the end.
import { readFileSync } from "node:fs";
import { frame, openChainWriter, TEST_PEER } from "./fixtures.ts";

const [db, keyPath, chainId, batch, pauseMs] = process.argv.slice(2);
const { store, writer } = openChainWriter(db!, readFileSync(keyPath!, "utf8"), chainId!);
let stop = false;
process.on("SIGTERM", () => {
  stop = true;
});
let n = 0;
while (!stop) {
  const events = [];
  for (let i = 0; i < Number(batch); i++) events.push({ no: n + i, frame: frame(n + i), peer: TEST_PEER });
  writer.commit(events);
  n += events.length;
  process.stdout.write(`committed ${n}\n`);
  await Bun.sleep(Number(pauseMs));
}
store.close();
process.stdout.write(`closed ${n}\n`);
