// A separate process holding a StoreWriter open and committing real signed
// receipts until SIGTERM: `bun live-writer.ts <db> <key> <chainId> <batch> <pauseMs>`.
// Prints "committed N" after each commit and "closed N" at the end.
import { readFileSync } from "node:fs";
import { ChainWriter } from "../../src/daemon/pipeline/chain-writer.ts";
import { parsePrivateKey } from "../../src/receipt/keys.ts";
import { keySourceOf } from "../../src/receipt/key-source.ts";
import { StoreWriter } from "../../src/store/writer.ts";
import { frame, TEST_PEER } from "./fixtures.ts";

const [db, keyPath, chainId, batch, pauseMs] = process.argv.slice(2);
const store = new StoreWriter(db!);
const writer = new ChainWriter({
  store, signer: keySourceOf(parsePrivateKey(readFileSync(keyPath!, "utf8"))),
  issuerId: "did:agent-receipts-daemon:local", verificationMethod: "did:agent-receipts-daemon:local#k1", chainIdBase: chainId!,
});
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
