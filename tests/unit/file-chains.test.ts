// Splitting a JSON Lines file into one run per chain (src/verify/file-chains.ts):
// a new run only where a parsed chain id names a chain not seen before.
import { expect, test } from "bun:test";
import { chainRuns } from "../../src/verify/file-chains.ts";

const line = (chain: string, seq: number, extra = "") => `{"credentialSubject":{${extra}"chain":{"chain_id":${JSON.stringify(chain)},"sequence":${seq}}}}`;

async function* from(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

async function split(lines: string[]): Promise<Array<[string, number[]]>> {
  const out: Array<[string, number[]]> = [];
  for await (const run of chainRuns(from(lines))) {
    const seqs: number[] = [];
    for await (const l of run.receipts) seqs.push(lines.indexOf(l));
    out.push([run.chainId, seqs]);
  }
  return out;
}

test("chain after chain: one run each, every line in order", async () => {
  const lines = [line("a", 1), line("a", 2), line("b", 5), line("b", 6), line("a/agent/x", 1)];
  expect(await split(lines)).toEqual([["a", [0, 1]], ["b", [2, 3]], ["a/agent/x", [4]]]);
});

test("a chain that comes back after another stays in the current run (the chain rules then report the mismatch)", async () => {
  const lines = [line("a", 1), line("b", 1), line("a", 2)];
  expect(await split(lines)).toEqual([["a", [0]], ["b", [1, 2]]]);
});

test("lines that cannot be parsed stay in the run they are in", async () => {
  const lines = [line("a", 1), "not json", line("a", 3), line("b", 1)];
  expect(await split(lines)).toEqual([["a", [0, 1, 2]], ["b", [3]]]);
  expect(await split(["garbage", line("a", 1)])).toEqual([["(unknown)", [0, 1]]]);
});

test("the fast path only guesses: a line whose first chain_id member is not its chain's stays in the run, for the rules to reject", async () => {
  // "action" sorts before "chain", so a stored receipt never has this; a crafted line that does
  // must not start a run of its own (that could hide a gap): it lands in "a", where its chain id mismatches.
  const lines = [line("a", 1), line("b", 2, '"action":{"chain_id":"a"},')];
  expect(await split(lines)).toEqual([["a", [0, 1]]]);
});

test("an empty file has no runs", async () => {
  expect(await split([])).toEqual([]);
});
