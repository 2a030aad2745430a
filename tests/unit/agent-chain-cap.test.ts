// The cap on open sub-agent chains (issue 13 item 10) in the chain writer, on
// a real SQLite file: least recently used first, terminators in the batch's
// own transaction, a failed commit closes nothing, and shutdown finds the
// open chains (also those a crash left) in one query.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { ChainWriter, CommitError, type ChainEvent } from "../../src/daemon/pipeline/chain-writer.ts";
import { parsePrivateKey } from "../../src/receipt/keys.ts";
import { keySourceOf } from "../../src/receipt/key-source.ts";
import { StoreWriter } from "../../src/store/writer.ts";
import { frame, TEST_PEER, tempDir, writeKeyFiles } from "../helpers/fixtures.ts";

function setup(maxAgentChains: number) {
  const dir = tempDir();
  const keys = writeKeyFiles(dir);
  const dbPath = join(dir, "r.db");
  const store = new StoreWriter(dbPath);
  const make = () => new ChainWriter({
    store, signer: keySourceOf(parsePrivateKey(keys.privateKeyPem)), issuerId: "did:test:issuer",
    verificationMethod: "did:test:issuer#k1", chainIdBase: "r", maxAgentChains,
  });
  return { dbPath, store, writer: make(), make };
}

let no = 0;
const agent = (id: string): ChainEvent => ({ no: ++no, frame: frame(no, { agent_id: id }), peer: TEST_PEER });

/** Chain id -> whether its last receipt is terminal, read independently of the project's queries. */
function tails(dbPath: string): Map<string, boolean> {
  const db = new Database(dbPath, { readonly: true });
  const out = new Map<string, boolean>();
  for (const r of db.query<{ chain_id: string; receipt_json: string }, []>("SELECT chain_id, receipt_json FROM receipts ORDER BY chain_id, sequence").all()) {
    out.set(r.chain_id, (JSON.parse(r.receipt_json) as { credentialSubject: { chain: { terminal?: boolean } } }).credentialSubject.chain.terminal === true);
  }
  db.close();
  return out;
}

const openOf = (t: Map<string, boolean>) => [...t].filter(([, terminal]) => !terminal).map(([id]) => id).sort();

describe("open sub-agent chains are capped", () => {
  test("least recently used are closed first, also within one batch larger than the cap", () => {
    const { dbPath, writer } = setup(3);
    writer.commit(["a", "b", "c"].map(agent));
    writer.commit([agent("a")]); // a is now the most recently used
    writer.commit([agent("d")]); // b goes
    expect(openOf(tails(dbPath))).toEqual(["r/agent/a", "r/agent/c", "r/agent/d"]);
    writer.commit(["e", "f", "g", "h", "i"].map(agent)); // one batch of five: only the last three stay
    expect(openOf(tails(dbPath))).toEqual(["r/agent/g", "r/agent/h", "r/agent/i"]);
    expect(writer.openAgentChains).toBe(3);
    writer.commit([agent("b")]);
    const t = tails(dbPath);
    expect(t.get("r/agent/b")).toBe(true);
    expect(t.get("r/agent/b-2")).toBe(false);
  });

  test("a failed commit closes nothing; the retry does", () => {
    const { dbPath, store, writer } = setup(1);
    writer.commit([agent("x")]);
    store.db.run("CREATE TRIGGER fail_insert BEFORE INSERT ON receipts BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END");
    const batch = [agent("y")];
    expect(() => writer.commit(batch)).toThrow(CommitError);
    expect(openOf(tails(dbPath))).toEqual(["r/agent/x"]);
    store.db.run("DROP TRIGGER fail_insert");
    writer.commit(batch);
    expect(openOf(tails(dbPath))).toEqual(["r/agent/y"]);
    expect(tails(dbPath).get("r/agent/x")).toBe(true);
  });

  test("shutdown terminates the root and the open chains only, including one a crash left open", () => {
    const first = setup(2);
    first.writer.commit([{ no: ++no, frame: frame(0), peer: TEST_PEER }, ...["a", "b", "c", "d"].map(agent)]);
    // A crash: a second writer on the same root, which has never seen c and d.
    const second = first.make();
    second.commit([agent("e")]);
    expect(second.openChains().sort()).toEqual(["r", "r/agent/c", "r/agent/d", "r/agent/e"]);
    expect(second.terminate().sort()).toEqual(["r", "r/agent/c", "r/agent/d", "r/agent/e"]);
    expect(openOf(tails(first.dbPath))).toEqual([]);
  });
});
