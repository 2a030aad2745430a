// Where receipts to verify come from: a database (every chain, or one) or a
// JSON Lines file. Both stream.
import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import type { StoreReader } from "../store/reader.ts";
import type { StoredRow } from "../store/schema.ts";
import type { BatchJob } from "./pool-messages.ts";
import { UserFacingError } from "../errors.ts";

export class SourceError extends UserFacingError {}

export async function* jsonLines(path: string): AsyncGenerator<string> {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new SourceError(`receipts file ${path} is not a regular file`);
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(`cannot read receipts file ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "it does not exist" : (err as Error).message}`);
  }
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() !== "") yield line;
  }
}

export const DEFAULT_BATCH = 1024;

/** Groups receipt texts into inline batches. */
export async function* jsonBatches(receipts: Iterable<string> | AsyncIterable<string>, size = DEFAULT_BATCH): AsyncGenerator<BatchJob> {
  let batch: string[] = [];
  for await (const json of receipts) {
    batch.push(json);
    if (batch.length === size) {
      yield { count: batch.length, source: { kind: "json", receipts: batch } };
      batch = [];
    }
  }
  if (batch.length > 0) yield { count: batch.length, source: { kind: "json", receipts: batch } };
}

/**
 * Batches of a stored chain as sequence ranges, found from the index alone;
 * the workers read the rows themselves. Rows are append-only, so a range the
 * reader has seen holds the same rows when a worker reads it.
 */
export async function* rowBatches(reader: StoreReader, chainId: string, size = DEFAULT_BATCH): AsyncGenerator<BatchJob> {
  if (!reader.integerSequences(chainId)) {
    // Ranges need integer keys; a tampered column is read row by row instead (and reported by the workers).
    yield* storedBatches(reader.iterateStoredChain(chainId), size);
    return;
  }
  let from = 0;
  let last = 0;
  let count = 0;
  for (const sequence of reader.iterateSequences(chainId)) {
    if (count === size) {
      yield { count, source: { kind: "rows", db: reader.path, chainId, fromSequence: from, toSequence: sequence } };
      count = 0;
    }
    if (count === 0) from = sequence;
    last = sequence;
    count++;
  }
  if (count > 0) yield { count, source: { kind: "rows", db: reader.path, chainId, fromSequence: from, toSequence: last + 1 } };
}

function* storedBatches(rows: Iterable<StoredRow>, size: number): Generator<BatchJob> {
  let batch: StoredRow[] = [];
  for (const row of rows) {
    batch.push(row);
    if (batch.length === size) {
      yield { count: batch.length, source: { kind: "stored", rows: batch } };
      batch = [];
    }
  }
  if (batch.length > 0) yield { count: batch.length, source: { kind: "stored", rows: batch } };
}
