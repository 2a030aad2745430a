// Issue 13, item 7: readers filter on the index columns of `receipts` without
// parsing the signed JSON, so `verify` must check every row's columns against
// its signed receipt. Each case edits one column with plain SQL on a real
// database and runs the compiled binary.
import { afterAll, describe, expect, test } from "bun:test";
import { chainFixture, removeTempDirs, sql, verifyDb, verifyJson } from "../helpers/verify-run.ts";

afterAll(removeTempDirs);

// [column, SQL setting it on one row (sequence ? of chain ?), the sequence edited]
const EDITS: Array<[string, string, number]> = [
  ["id", "UPDATE receipts SET id = 'urn:receipt:00000000-0000-4000-8000-00000000beef' WHERE sequence = ? AND chain_id = ?", 3],
  ["action_type", "UPDATE receipts SET action_type = 'filesystem.file.read' WHERE sequence = ? AND chain_id = ?", 3],
  ["tool_name", "UPDATE receipts SET tool_name = 'read_only_tool' WHERE sequence = ? AND chain_id = ?", 3],
  ["risk_level", "UPDATE receipts SET risk_level = 'critical' WHERE sequence = ? AND chain_id = ?", 3],
  ["status", "UPDATE receipts SET status = 'failure' WHERE sequence = ? AND chain_id = ?", 3],
  ["timestamp", "UPDATE receipts SET timestamp = '2020-01-01T00:00:00.000Z' WHERE sequence = ? AND chain_id = ?", 3],
  ["issuer_id", "UPDATE receipts SET issuer_id = 'did:agent-receipts-daemon:elsewhere' WHERE sequence = ? AND chain_id = ?", 3],
  ["principal_id", "UPDATE receipts SET principal_id = 'did:user:mallory' WHERE sequence = ? AND chain_id = ?", 3],
  ["principal_id", "UPDATE receipts SET principal_id = NULL WHERE sequence = ? AND chain_id = ?", 3],
  ["receipt_hash", "UPDATE receipts SET receipt_hash = 'sha256:' || printf('%064d', 0) WHERE sequence = ? AND chain_id = ?", 3],
  ["previous_receipt_hash", "UPDATE receipts SET previous_receipt_hash = 'sha256:' || printf('%064d', 1) WHERE sequence = ? AND chain_id = ?", 3],
  // The last row keeps its place in sequence order, so only its column is wrong.
  ["sequence", "UPDATE receipts SET sequence = 70 WHERE sequence = ? AND chain_id = ?", 7],
  // Not an integer any more: the rows are read one by one instead of in ranges, and still compared.
  ["sequence", "UPDATE receipts SET sequence = 7.5 WHERE sequence = ? AND chain_id = ?", 7],
];

describe("verify compares each row's index columns with its signed receipt", () => {
  test("an untouched database (events and terminator) has no mismatch", () => {
    const f = chainFixture(6, { terminate: true });
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test.each(EDITS)("%s edited by SQL: exit 1, the chain is broken at that row, naming the column (%s)", (column, statement, sequence) => {
    const f = chainFixture(6, { terminate: true });
    sql(f.db, statement, sequence, f.chainId);
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`BROKEN\\s+chain ${f.chainId}\\s`));
    expect(r.stdout).toMatch(new RegExp(`break at index ${sequence - 1} \\(sequence ${sequence},[^)]*\\): index column differs from the signed receipt\\n`));
    expect(r.stdout).toMatch(new RegExp(`differs from its signed receipt: ${column} is `));
    const j = verifyJson(f.db, f.keys.publicKey);
    expect(j.code).toBe(1);
    expect(j.valid).toBe(false);
    expect(j.chains[0]!.break).toMatchObject({ index: sequence - 1, sequence, reason: "column_mismatch", reasons: ["column_mismatch"], columns: [column] });
  });

  test("chain_id of every row rewritten (issue 13's example): not VALID under the false id, exit 1 naming chain_id", () => {
    const f = chainFixture(5, { terminate: true });
    sql(f.db, "UPDATE receipts SET chain_id = '2026-11-28'");
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain("VALID");
    expect(r.stdout).toMatch(/BROKEN\s+chain 2026-11-28\s+6 receipts/);
    expect(r.stdout).toContain(`chain_id is "2026-11-28", signed "${f.chainId}"`);
    const j = verifyJson(f.db, f.keys.publicKey);
    expect(j.chains).toHaveLength(1);
    expect(j.chains[0]).toMatchObject({ chain_id: "2026-11-28", valid: false, break: { index: 0, reason: "column_mismatch", columns: ["chain_id"] } });
  });

  test("chain_id of one row moved to another chain: both chains broken, the moved row names chain_id first", () => {
    const f = chainFixture(6);
    sql(f.db, "UPDATE receipts SET chain_id = 'elsewhere' WHERE sequence = 3 AND chain_id = ?", f.chainId);
    const j = verifyJson(f.db, f.keys.publicKey);
    expect(j.code).toBe(1);
    const byId = Object.fromEntries(j.chains.map((c) => [c.chain_id, c]));
    expect(byId[f.chainId]!.break).toMatchObject({ index: 2, sequence: 4 });
    expect(byId.elsewhere!.break).toMatchObject({ index: 0, sequence: 3, reason: "column_mismatch", columns: ["chain_id"] });
  });

  test("several columns of one row: every one is named, in table order", () => {
    const f = chainFixture(4);
    sql(f.db, "UPDATE receipts SET risk_level = 'low', tool_name = 'x', status = 'failure' WHERE sequence = 2 AND chain_id = ?", f.chainId);
    const j = verifyJson(f.db, f.keys.publicKey);
    expect(j.chains[0]!.break).toMatchObject({ index: 1, reason: "column_mismatch", columns: ["tool_name", "risk_level", "status"] });
    expect(j.chains[0]!.break!.detail).toContain('risk_level is "low", signed "');
  });

  test("receipt_json edited and its columns left alone: bad signature first, the columns it no longer matches named too", () => {
    const f = chainFixture(4);
    sql(
      f.db,
      "UPDATE receipts SET receipt_json = json_set(receipt_json, '$.credentialSubject.action.risk_level', 'critical') WHERE sequence = 2 AND chain_id = ?",
      f.chainId,
    );
    const r = verifyDb(f.db, f.keys.publicKey);
    expect(r.code).toBe(1);
    // The stored hash is the original receipt's, so it no longer matches either.
    expect(r.stdout).toMatch(/: bad signature \(also: index column differs from the signed receipt: risk_level, receipt_hash\)/);
    const j = verifyJson(f.db, f.keys.publicKey);
    expect(j.chains[0]!.break).toMatchObject({ index: 1, reason: "bad_signature", reasons: ["bad_signature", "column_mismatch"], columns: ["risk_level", "receipt_hash"] });
  });
});
