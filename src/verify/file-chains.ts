// A JSON Lines file may hold several chains one after another — an export of
// a database writes chain after chain. This splits its lines into runs, one
// per chain, streaming (one line of look-ahead).
//
// A new run starts only at a line whose signed chain_id (parsed) names a
// chain not seen before in the file. Everything else stays in the current
// run, where the chain rules judge it: a line that cannot be parsed, or that
// repeats an earlier chain after another one, is then a break of the run it
// lands in (malformed receipt, chain id mismatch), never silently accepted.

export interface ChainRun {
  /** The first line's chain id; "(unknown)" when it has none. */
  chainId: string;
  receipts: AsyncIterable<string>;
}

const KEY = '"chain_id":';

function parsedChainId(line: string): string | undefined {
  try {
    const id = (JSON.parse(line) as { credentialSubject?: { chain?: { chain_id?: unknown } } })?.credentialSubject?.chain?.chain_id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The chain id a line starts a new run with, or undefined when it continues
 * the current one. Fast path: a stored receipt's first `"chain_id":` is its
 * chain's (canonical member order), so a line carrying the current id there
 * needs no parse; if that guess is wrong, the chain rules see the mismatch.
 */
function newChainAt(line: string, current: string, seen: Set<string>): string | undefined {
  const at = line.indexOf(KEY);
  if (at >= 0 && line.startsWith(JSON.stringify(current), at + KEY.length)) return undefined;
  const id = parsedChainId(line);
  if (id === undefined || id === current || seen.has(id)) return undefined;
  return id;
}

/**
 * Splits `lines` into runs of one chain each; each run must be read to its end
 * before the next is taken. No lines, no runs.
 */
export async function* chainRuns(lines: AsyncIterable<string>): AsyncGenerator<ChainRun> {
  const it = lines[Symbol.asyncIterator]();
  const seen = new Set<string>();
  let next = await it.next();
  while (!next.done) {
    const head = next.value;
    const known = parsedChainId(head);
    if (known !== undefined) seen.add(known);
    let finished = false;
    const run = async function* (): AsyncGenerator<string> {
      yield head;
      for (;;) {
        next = await it.next();
        if (next.done || (known !== undefined && newChainAt(next.value, known, seen) !== undefined)) break;
        yield next.value;
      }
      finished = true;
    };
    yield { chainId: known ?? "(unknown)", receipts: run() };
    if (!finished) throw new Error("chainRuns: a run was left before its end");
  }
}
