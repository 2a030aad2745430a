// SHA256SUMS in the format `sha256sum -c` (and `shasum -a 256 -c`) reads.
import { createHash } from "node:crypto";
import { createReadStream, writeFileSync } from "node:fs";
import { join } from "node:path";

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  // Streamed: the tarballs are tens of megabytes.
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Writes `<dir>/SHA256SUMS`, one `<hex>  <file name>` line per entry sorted by name; returns its path. */
export function writeSums(dir: string, sumsByName: ReadonlyMap<string, string>): string {
  const lines = [...sumsByName.keys()].sort().map((name) => `${sumsByName.get(name)}  ${name}`);
  const out = join(dir, "SHA256SUMS");
  writeFileSync(out, `${lines.join("\n")}\n`);
  return out;
}
