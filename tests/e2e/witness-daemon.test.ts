// The compiled daemon with a `witness:` anchor and the compiled witness, each
// its own process, over HTTP on 127.0.0.1: ingest does not slow down while the
// witness is down, the witness is caught up when it returns, and a database
// whose middle receipt was rewritten (re-signed, chain re-linked, tree tables
// rebuilt by the daemon) is refused by the witness and found FORKED by
// `verify --checkpoint <the witness's checkpoint> --witness VKEY`.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, tempDir, writeKeyFiles } from "../helpers/fixtures.ts";
import { initWitnessKey, startWitness, type WitnessProcess } from "../helpers/witness.ts";
import { daemonTracker, runCli, waitFor } from "../daemon/support.ts";
import type { DaemonHandle } from "../helpers/daemon.ts";
import { parsePrivateKey, parsePublicKey, rawPublicKey } from "../../src/receipt/keys.ts";
import { keySourceOf } from "../../src/receipt/key-source.ts";
import { hashReceipt, signReceipt } from "../../src/receipt/seal.ts";
import type { UnsignedReceipt } from "../../src/receipt/types.ts";
import { ed25519VerifierKey } from "../../src/tlog/note.ts";
import { parseCheckpoint } from "../../src/tlog/checkpoint.ts";
import { verifyCosignature } from "../../src/tlog/cosignature.ts";

const ORIGIN = "test.example/agent-receipts/witnessed";
const daemons = daemonTracker();
const witnesses: WitnessProcess[] = [];
afterAll(async () => {
  await daemons.stopAll();
  for (const w of witnesses) await w.stop("SIGKILL");
});

interface Setup {
  dir: string;
  keyPem: string;
  publicKey: string;
  keyPath: string;
  logVkey: string;
  witnessKey: ReturnType<typeof initWitnessKey>;
  witnessDb: string;
  config: string;
}

function setup(): Setup {
  const dir = tempDir("ar-witnessed-");
  const keys = writeKeyFiles(dir);
  const logVkey = ed25519VerifierKey(ORIGIN, rawPublicKey(parsePublicKey(keys.publicKeyPem)));
  return { dir, keyPem: keys.privateKeyPem, publicKey: keys.publicKey, keyPath: keys.key, logVkey, witnessKey: initWitnessKey(dir), witnessDb: join(dir, "witness.db"), config: join(dir, "daemon.toml") };
}

async function witnessUp(s: Setup, port = 0): Promise<WitnessProcess> {
  const w = await startWitness({ db: s.witnessDb, key: s.witnessKey.key, logs: [s.logVkey], port });
  witnesses.push(w);
  return w;
}

async function daemonWith(s: Setup, witnessUrl: string): Promise<DaemonHandle> {
  writeFileSync(s.config, `log_origin = "${ORIGIN}"\ncheckpoint_every = 500\ncheckpoint_interval = "300ms"\nanchors = ["witness:${witnessUrl} ${s.witnessKey.vkey}"]\n`);
  return daemons.start({ dir: s.dir, args: ["--config", s.config, "--key", s.keyPath] });
}

/** Sends `count` events through one `emit --stdin` (confirmed commits); returns the milliseconds it took. */
function emit(d: DaemonHandle, count: number, tag: string): number {
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ tool: { name: `tool-${i % 5}` }, decision: "allowed", input: { tag, i }, session_id: tag })).join("\n");
  const started = performance.now();
  const r = spawnSync(BINARY, ["emit", "--stdin", "--socket", d.socket], { input: `${lines}\n`, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`emit failed (${r.status}): ${r.stderr}`);
  return performance.now() - started;
}

/** The witness's latest cosigned checkpoint for the log (its monitoring API), or null. */
async function witnessCheckpoint(w: WitnessProcess): Promise<string | null> {
  const res = await fetch(`${w.url}/${createHash("sha256").update(ORIGIN).digest("hex")}/checkpoint`, { signal: AbortSignal.timeout(5000) });
  return res.status === 200 ? res.text() : null;
}

function treeSize(db: string): number {
  const r = runCli(["checkpoint", "--db", db, "--json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as { tree_size: number }).tree_size : -1;
}

describe("daemon with a witness anchor", () => {
  test("ingest keeps its speed while the witness is down, and the witness is caught up when it returns", async () => {
    const s = setup();
    const first = await witnessUp(s);
    const port = Number(new URL(first.url).port);
    const d = await daemonWith(s, first.url);

    emit(d, 600, "warm-up");
    const up = emit(d, 3000, "witness-up");
    let size = treeSize(d.db);
    await pollWitness(first, size, 20_000);

    // Hung (stopped: the kernel still accepts connections, nothing answers), then gone.
    first.proc.kill("SIGSTOP");
    const hung = emit(d, 3000, "witness-hung");
    first.proc.kill("SIGCONT");
    size = treeSize(d.db);
    await pollWitness(first, size, 30_000);
    await first.stop("SIGKILL");
    const down = emit(d, 3000, "witness-down");
    // Full speed: no slower than with the witness up, within the noise of a shared machine.
    for (const t of [hung, down]) expect(t).toBeLessThan(Math.max(up * 1.5, up + 1500));
    await waitFor("an anchor failure to be logged", () => d.logs().filter((l) => l.event === "anchor_failed").length, (n) => n > 0, 10_000);
    expect(d.logs().some((l) => l.event === "anchor_failed" && /unreachable/.test(String(l.error)))).toBe(true);

    const back = await witnessUp(s, port);
    emit(d, 10, "after");
    size = treeSize(d.db);
    const note = await pollWitness(back, size, 70_000);
    // The witness stores the checkpoint before its answer reaches the daemon, which then logs the recovery.
    await waitFor("the recovery to be logged", () => d.logs().some((l) => l.event === "anchor_recovered"), (seen) => seen, 10_000);
    // The daemon stored the cosignature it got for that size, and it verifies.
    const stored = await waitFor("the cosignature to be stored", () => runCli(["checkpoint", "--db", d.db, "--json"]).stdout, (o) => {
      const j = JSON.parse(o) as { size: number; cosignatures: unknown[] };
      return j.size === size && j.cosignatures.length > 0;
    }, 10_000);
    const j = JSON.parse(stored) as { note: string; cosignatures: Array<{ line: string; anchor: string }> };
    expect(j.cosignatures[0]!.anchor).toBe(`witness:${first.url}`);
    const text = j.note.slice(0, j.note.indexOf("\n\n") + 1);
    expect(verifyCosignature(s.witnessKey.vkey, text, j.cosignatures[0]!.line)).not.toBeNull();
    expect(note.startsWith(text)).toBe(true);
    // The cosignatures the daemon stored count for `verify --witness` with no checkpoint file.
    const witnessed = runCli(["verify", "--db", d.db, "--public-key", s.publicKey, "--witness", s.witnessKey.vkey, "--json"]);
    expect(witnessed.code).toBe(0);
    expect((JSON.parse(witnessed.stdout) as { log: { verdict: string } }).log.verdict).toBe("ok");
  }, 180_000);

  test("a middle receipt rewritten and the tree rebuilt: the witness refuses the fork, verify says FORKED against its checkpoint", async () => {
    const s = setup();
    const w = await witnessUp(s);
    let d = await daemonWith(s, w.url);
    emit(d, 1200, "honest");
    expect(await d.stop("SIGTERM")).toBe(0);
    const size = treeSize(d.db);
    const witnessed = await pollWitness(w, size, 20_000);
    // The auditor keeps the witness's checkpoint (its monitoring API serves it).
    const kept = join(s.dir, "witnessed.checkpoint");
    writeFileSync(kept, witnessed);
    const before = runCli(["verify", "--db", d.db, "--public-key", s.publicKey, "--checkpoint", kept, "--witness", s.witnessKey.vkey]);
    expect(`${before.code} ${before.stdout}`).toMatch(/^0 /);

    // The attacker (the daemon's user): re-signs receipt 600 with changed content, re-links and re-signs
    // every later receipt of its chain, and drops the tree tables for the daemon to rebuild from the receipts.
    rewriteFrom(d.db, s.keyPem, 600);
    const conn = new Database(d.db);
    for (const t of ["tlog_cosignatures", "tlog_checkpoints", "tlog_runs", "tlog_tiles"]) conn.run(`DROP TABLE IF EXISTS ${t}`);
    conn.close();
    const chains = runCli(["verify", "--db", d.db, "--public-key", s.publicKey]);
    expect(`${chains.code} ${chains.stdout}`).toMatch(/^0 /); // the chains alone do not show it

    d = await daemonWith(s, w.url);
    emit(d, 20, "after-rewrite");
    await waitFor("the witness to refuse the forked checkpoint", () => d.logs().filter((l) => l.event === "anchor_failed" && / 422 /.test(String(l.error))), (l) => l.length > 0, 30_000);
    await d.stop("SIGTERM");
    // The witness did not move.
    expect(parseCheckpoint((await witnessCheckpoint(w))!.split("\n\n")[0]! + "\n").size).toBe(size);

    const after = runCli(["verify", "--db", d.db, "--public-key", s.publicKey, "--checkpoint", kept, "--witness", s.witnessKey.vkey]);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/\nFORKED  /);

  }, 180_000);
});

async function pollWitness(w: WitnessProcess, size: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  for (;;) {
    last = await witnessCheckpoint(w);
    if (last !== null && parseCheckpoint(last.slice(0, last.indexOf("\n\n") + 1)).size === size) return last;
    if (Date.now() > deadline) throw new Error(`the witness did not reach size ${size}; it has: ${last}`);
    await Bun.sleep(50);
  }
}

/** Rewrites the receipt at rowid `row` and re-seals the rest of its chain, as someone holding the key and the database could. */
function rewriteFrom(db: string, keyPem: string, row: number): void {
  const signer = keySourceOf(parsePrivateKey(keyPem));
  const conn = new Database(db);
  try {
    const target = conn.query<{ chain_id: string; sequence: number }, [number]>("SELECT chain_id, sequence FROM receipts WHERE rowid = ?").get(row)!;
    const rows = conn.query<{ rowid: number; receipt_json: string }, [string, number]>(
      "SELECT rowid, receipt_json FROM receipts WHERE chain_id = ? AND sequence >= ? ORDER BY sequence",
    ).all(target.chain_id, target.sequence);
    let previous: string | null = null;
    for (const [i, r] of rows.entries()) {
      const receipt = JSON.parse(r.receipt_json) as UnsignedReceipt & { proof: { verificationMethod: string } };
      const { proof, ...unsigned } = receipt;
      if (i === 0) (unsigned.credentialSubject.action as { parameters_hash?: string }).parameters_hash = `sha256:${"0".repeat(64)}`;
      else unsigned.credentialSubject.chain.previous_receipt_hash = previous;
      const hashed = hashReceipt(unsigned as UnsignedReceipt);
      conn.run("UPDATE receipts SET receipt_json = ?, receipt_hash = ?, previous_receipt_hash = ? WHERE rowid = ?", [
        signReceipt(hashed, signer, proof.verificationMethod), hashed.hash, unsigned.credentialSubject.chain.previous_receipt_hash, r.rowid,
      ]);
      previous = hashed.hash;
    }
  } finally {
    conn.close();
  }
}
