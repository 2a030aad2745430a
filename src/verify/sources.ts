// Where receipts to verify come from: a database (every chain, or one) or a
// JSON Lines file. Both stream.
import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { StoreReader } from "../store/reader.ts";

export class SourceError extends Error {}

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

/** The chain id a JSON Lines file claims, from its first receipt. */
export async function firstChainId(path: string): Promise<string> {
  for await (const line of jsonLines(path)) {
    try {
      const id = (JSON.parse(line) as { credentialSubject?: { chain?: { chain_id?: unknown } } }).credentialSubject?.chain?.chain_id;
      return typeof id === "string" ? id : "(unknown)";
    } catch {
      return "(unknown)";
    }
  }
  return "(empty)";
}

export function* chainReceipts(reader: StoreReader, chainId: string): Generator<string> {
  for (const row of reader.iterateChain(chainId)) yield row.receiptJson;
}
