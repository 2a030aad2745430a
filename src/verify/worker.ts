// Verify worker: reads (or is given) a batch of stored receipts and checks it
// (parse, canonicalize, hash, signature, index columns, links inside the
// batch), so both cores share the CPU-heavy part of verification.
import { parsePublicKey } from "../receipt/keys.ts";
import { StoreReader } from "../store/reader.ts";
import { checkSegment } from "./chain-rules.ts";
import { checkStoredRow, inspectReceipt, type Inspected } from "./check-receipt.ts";
import type { BatchResult, BatchSource, DropReceipts, VerifyRequest, VerifyResponse } from "./pool-messages.ts";
import { keyHash } from "./retries.ts";

declare const self: Worker;

let publicKey: ReturnType<typeof parsePublicKey> | null = null;
const readers = new Map<string, StoreReader>();

function inspectAll(source: BatchSource, key: NonNullable<typeof publicKey>): Inspected[] {
  if (source.kind === "json") return source.receipts.map((json) => inspectReceipt(json, key));
  if (source.kind === "stored") return source.rows.map((row) => checkStoredRow(row, key));
  let reader = readers.get(source.db);
  if (reader === undefined) {
    reader = new StoreReader(source.db);
    readers.set(source.db, reader);
  }
  return reader.storedRange(source.chainId, source.fromSequence, source.toSequence).map((row) => checkStoredRow(row, key));
}

function resultOf(inspected: Inspected[], base: number): BatchResult {
  const tally = { verified: 0, badSignatures: 0, receiptLike: 0 };
  const hashes: bigint[] = [];
  const indexes: number[] = [];
  const drops: DropReceipts = { indexes: [], events: [] };
  inspected.forEach((x, j) => {
    if (x.receiptLike) tally.receiptLike++;
    if (x.checked.problem === undefined) tally.verified++;
    if (x.checked.problem === "bad_signature") tally.badSignatures++;
    if (x.eventKey !== undefined) {
      hashes.push(keyHash(x.eventKey));
      indexes.push(base + j);
    }
    if (x.droppedEvents !== undefined) {
      drops.indexes.push(base + j);
      drops.events.push(x.droppedEvents);
    }
  });
  return {
    segment: checkSegment(inspected.map((x) => x.checked), base),
    tally,
    keyed: { hashes: BigUint64Array.from(hashes), indexes: Float64Array.from(indexes) },
    drops,
  };
}

self.onmessage = (event: MessageEvent<VerifyRequest>) => {
  const msg = event.data;
  if (msg.kind === "init") {
    publicKey = parsePublicKey(msg.publicKeyPem);
    return;
  }
  let response: VerifyResponse;
  try {
    const inspected = inspectAll(msg.source, publicKey!);
    response = inspected.length === 0
      ? { batch: msg.batch, error: "the batch's rows disappeared while verifying (the database changed underneath)" }
      : { batch: msg.batch, result: resultOf(inspected, msg.base) };
  } catch (err) {
    response = { batch: msg.batch, error: (err as Error).message };
  }
  self.postMessage(response);
};
