// The chain writer on a real SQLite file: sequencing, drops, sub-agent chains,
// continuation ids, terminators, and a commit that fails without moving tails.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { ChainWriter, CommitError } from "../../src/daemon/pipeline/chain-writer.ts";
import { continuationId, dateChainId } from "../../src/daemon/pipeline/chain-id.ts";
import { parsePrivateKey } from "../../src/receipt/keys.ts";
import { keySourceOf } from "../../src/receipt/key-source.ts";
import { StoreWriter } from "../../src/store/writer.ts";
import { frame, TEST_PEER, tempDir, writeKeyFiles } from "../helpers/fixtures.ts";
import { receiptHash } from "../../src/receipt/canonical.ts";

interface Stored {
  chain_id: string;
  sequence: number;
  receipt_hash: string;
  previous_receipt_hash: string | null;
  receipt_json: string;
}

function setup(chainIdBase = "c") {
  const dir = tempDir();
  const keys = writeKeyFiles(dir);
  const dbPath = join(dir, "r.db");
  const store = new StoreWriter(dbPath);
  const make = () =>
    new ChainWriter({ store, signer: keySourceOf(parsePrivateKey(keys.privateKeyPem)), issuerId: "did:test:issuer", verificationMethod: "did:test:issuer#k1", chainIdBase });
  return { dbPath, store, writer: make(), make };
}

function rows(dbPath: string, chainId?: string): Stored[] {
  const db = new Database(dbPath, { readonly: true });
  const out = chainId === undefined
    ? db.query<Stored, []>("SELECT * FROM receipts ORDER BY rowid").all()
    : db.query<Stored, [string]>("SELECT * FROM receipts WHERE chain_id = ? ORDER BY sequence").all(chainId);
  db.close();
  return out;
}

function expectLinked(list: Stored[]): void {
  list.forEach((r, i) => {
    expect(r.sequence).toBe(i + 1);
    expect(r.previous_receipt_hash).toBe(i === 0 ? null : list[i - 1]!.receipt_hash);
    expect(receiptHash(JSON.parse(r.receipt_json))).toBe(r.receipt_hash);
  });
}

describe("chain writer", () => {
  test("sequences from 1 with linked hashes across batches", () => {
    const { dbPath, writer } = setup();
    writer.commit([0, 1, 2].map((i) => ({ no: i + 1, frame: frame(i), peer: TEST_PEER })));
    writer.commit([3, 4].map((i) => ({ no: i + 1, frame: frame(i), peer: TEST_PEER })));
    const list = rows(dbPath, "c");
    expect(list).toHaveLength(5);
    expectLinked(list);
  });

  test("drop_count gives the events_dropped receipt and the live one in adjacent slots", () => {
    const { dbPath, writer } = setup();
    writer.commit([{ no: 1, frame: frame(0), peer: TEST_PEER }, { no: 2, frame: frame(1, { drop_count: 3 }), peer: TEST_PEER }]);
    const list = rows(dbPath, "c");
    expect(list).toHaveLength(3);
    expectLinked(list);
    const drop = JSON.parse(list[1]!.receipt_json);
    expect(drop.credentialSubject.action.type).toBe("agent_receipts.events_dropped");
    expect(drop.credentialSubject.action.emitter_metadata).toEqual({ drop_count: 3 });
    const live = JSON.parse(list[2]!.receipt_json);
    expect(live.credentialSubject.action.type).toBe("sdk.read_file");
    expect(live.credentialSubject.action.emitter_metadata).toBeUndefined();
  });

  test("sub-agent frames go to <root>/agent/<id> with delegation on the first receipt only", () => {
    const { dbPath, writer } = setup();
    writer.commit([{ no: 1, frame: frame(0), peer: TEST_PEER }]);
    const rootTail = rows(dbPath, "c")[0]!;
    writer.commit([1, 2].map((i) => ({ no: i + 1, frame: frame(i, { agent_id: "sub1", agent_type: "explorer" }), peer: TEST_PEER })));
    const sub = rows(dbPath, "c/agent/sub1");
    expect(sub).toHaveLength(2);
    expectLinked(sub);
    const first = JSON.parse(sub[0]!.receipt_json);
    expect(first.credentialSubject.delegation).toEqual({
      parent_chain_id: "c",
      parent_receipt_id: JSON.parse(rootTail.receipt_json).id,
      delegator: { id: "did:test:issuer" },
    });
    expect(JSON.parse(sub[1]!.receipt_json).credentialSubject.delegation).toBeUndefined();
    expect(rows(dbPath, "c")).toHaveLength(1);
  });

  test("a failed commit writes nothing and leaves the tail where the database is", () => {
    const { dbPath, store, writer } = setup();
    writer.commit([{ no: 1, frame: frame(0), peer: TEST_PEER }]);
    store.db.run("CREATE TRIGGER fail_insert BEFORE INSERT ON receipts BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END");
    expect(() => writer.commit([2, 3].map((i) => ({ no: i, frame: frame(i), peer: TEST_PEER })))).toThrow(CommitError);
    expect(rows(dbPath)).toHaveLength(1);
    store.db.run("DROP TRIGGER fail_insert");
    writer.commit([4, 5].map((i) => ({ no: i, frame: frame(i), peer: TEST_PEER })));
    const list = rows(dbPath, "c");
    expect(list).toHaveLength(3);
    expectLinked(list);
  });

  test("terminate writes chain_interrupted on every open chain; a restart continues on X-2", () => {
    const { dbPath, writer, make } = setup();
    writer.commit([{ no: 1, frame: frame(0), peer: TEST_PEER }, { no: 2, frame: frame(1, { agent_id: "a" }), peer: TEST_PEER }]);
    expect(writer.terminate().sort()).toEqual(["c", "c/agent/a"]);
    for (const id of ["c", "c/agent/a"]) {
      const list = rows(dbPath, id);
      const last = JSON.parse(list.at(-1)!.receipt_json).credentialSubject;
      expect(last.chain).toMatchObject({ terminal: true, status: "interrupted" });
      expect(last.action.type).toBe("agent_receipts.chain_interrupted");
      expect(last.principal.id).toBe("did:user:unknown");
      expect(last.action.peer_credential).toBeUndefined();
      expectLinked(list);
    }
    const second = make();
    expect(second.rootChainId).toBe("c-2");
    second.commit([{ no: 1, frame: frame(0), peer: TEST_PEER }]);
    second.terminate();
    expect(make().rootChainId).toBe("c-3");
  });

  test("a restart without terminator resumes the same chain with no gap", () => {
    const { dbPath, writer, make } = setup();
    writer.commit([{ no: 1, frame: frame(0), peer: TEST_PEER }]);
    const again = make();
    expect(again.rootChainId).toBe("c");
    expect(again.resumedFrom).toBe(1);
    again.commit([{ no: 1, frame: frame(1), peer: TEST_PEER }]);
    expectLinked(rows(dbPath, "c"));
  });

  test("chain ids: date default and continuation suffixes only on the configured base", () => {
    expect(dateChainId(new Date("2026-06-13T23:59:59Z"))).toBe("2026-06-13");
    expect(continuationId("2026-06-13", 1)).toBe("2026-06-13");
    expect(continuationId("2026-06-13", 2)).toBe("2026-06-13-2");
    expect(continuationId("2026-06-13", 3)).toBe("2026-06-13-3");
  });
});
