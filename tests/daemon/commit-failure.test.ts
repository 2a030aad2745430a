// A commit that fails inside the running daemon (real SQLite error injected by
// another process) must lose nothing and leave no gap: the daemon retries, and
// the chain continues from what the database really holds.
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { connect } from "node:net";
import { encodeFrame } from "../../src/protocol/framing.ts";
import { startDaemon } from "../helpers/daemon.ts";
import { BINARY } from "../helpers/fixtures.ts";

function frameFor(i: number): Buffer {
  return encodeFrame(JSON.stringify({
    v: "1", ts_emit: new Date().toISOString(), session_id: "commit-failure", channel: "sdk",
    tool: { name: "write_file" }, decision: "allowed", correlation_id: `c-${i}`, input: { i },
  }));
}

/** Sends frames, half-closes, resolves when the daemon closes the connection. */
function send(socket: string, from: number, to: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect(socket, () => {
      for (let i = from; i < to; i++) sock.write(frameFor(i));
      sock.end();
    });
    sock.on("error", reject);
    sock.on("close", () => resolve());
  });
}

test("failed commits are retried without gaps or loss", async () => {
  const daemon = await startDaemon({ args: ["--chain-id", "cf"] });
  try {
    await send(daemon.socket, 0, 5);
    const admin = new Database(daemon.db);
    admin.run("PRAGMA busy_timeout = 5000");
    admin.run("CREATE TRIGGER fail_insert BEFORE INSERT ON receipts BEGIN SELECT RAISE(ABORT, 'simulated I/O failure'); END");
    const closed = send(daemon.socket, 5, 10);
    const deadline = Date.now() + 10_000;
    while (!daemon.logs().some((l) => l.event === "commit_failed")) {
      expect(Date.now()).toBeLessThan(deadline);
      await Bun.sleep(20);
    }
    expect(admin.query("SELECT COUNT(*) AS n FROM receipts").get()).toEqual({ n: 5 });
    admin.run("DROP TRIGGER fail_insert");
    await closed; // the daemon confirms only once the retried commit succeeded
    expect(admin.query("SELECT COUNT(*) AS n FROM receipts").get()).toEqual({ n: 10 });
    const seqs = admin.query<{ sequence: number }, []>("SELECT sequence FROM receipts WHERE chain_id = 'cf' ORDER BY sequence").all();
    expect(seqs.map((r) => r.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const ids = admin.query<{ c: string }, []>("SELECT json_extract(receipt_json, '$.credentialSubject.correlation_id') AS c FROM receipts ORDER BY sequence").all();
    expect(ids.map((r) => r.c)).toEqual(Array.from({ length: 10 }, (_, i) => `c-${i}`));
    admin.close();
    expect(await daemon.stop()).toBe(0);
    const verify = Bun.spawnSync([BINARY, "verify", "--db", daemon.db, "--public-key", daemon.publicKey, "--json"]);
    expect(verify.exitCode).toBe(0);
    const report = JSON.parse(verify.stdout.toString());
    expect(report.chains[0]).toMatchObject({ chain_id: "cf", valid: true, count: 11, status: "interrupted" });
  } finally {
    await daemon.stop("SIGKILL");
  }
});
