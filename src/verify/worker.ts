// Verify worker: reads (or is given) a batch of stored receipts and checks it
// (parse, canonicalize, hash, signature, links inside the batch), so both
// cores share the CPU-heavy part of verification.
import { parsePublicKey } from "../receipt/keys.ts";
import { StoreReader } from "../store/reader.ts";
import { checkSegment } from "./chain-rules.ts";
import { checkReceipt } from "./check-receipt.ts";
import type { BatchSource, VerifyRequest, VerifyResponse } from "./pool-messages.ts";

declare const self: Worker;

let publicKey: ReturnType<typeof parsePublicKey> | null = null;
const readers = new Map<string, StoreReader>();

function receiptsOf(source: BatchSource): string[] {
  if (source.kind === "json") return source.receipts;
  let reader = readers.get(source.db);
  if (reader === undefined) {
    reader = new StoreReader(source.db);
    readers.set(source.db, reader);
  }
  return reader.receiptRange(source.chainId, source.fromSequence, source.toSequence);
}

self.onmessage = (event: MessageEvent<VerifyRequest>) => {
  const msg = event.data;
  if (msg.kind === "init") {
    publicKey = parsePublicKey(msg.publicKeyPem);
    return;
  }
  let response: VerifyResponse;
  try {
    const key = publicKey!;
    const checked = receiptsOf(msg.source).map((json) => checkReceipt(json, key));
    response = checked.length === 0
      ? { batch: msg.batch, error: "the batch's rows disappeared while verifying (the database changed underneath)" }
      : { batch: msg.batch, segment: checkSegment(checked, msg.base) };
  } catch (err) {
    response = { batch: msg.batch, error: (err as Error).message };
  }
  self.postMessage(response);
};
