// Verify worker: checks batches of stored receipts (parse, canonicalize, hash,
// signature) so both cores share the CPU-heavy part of verification.
import { parsePublicKey } from "../receipt/keys.ts";
import { checkReceipt } from "./check-receipt.ts";
import type { VerifyRequest, VerifyResponse } from "./protocol.ts";

declare const self: Worker;

let publicKey: ReturnType<typeof parsePublicKey> | null = null;

self.onmessage = (event: MessageEvent<VerifyRequest>) => {
  const msg = event.data;
  if (msg.kind === "init") {
    publicKey = parsePublicKey(msg.publicKeyPem);
    return;
  }
  const key = publicKey!;
  const response: VerifyResponse = { batch: msg.batch, results: msg.receipts.map((json) => checkReceipt(json, key)) };
  self.postMessage(response);
};
