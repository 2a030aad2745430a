// The transparency log through the compiled daemon (issue 12): a log of
// 10,000 receipts over several chains, every receipt's inclusion proof
// against every checkpoint, consistency between every pair of checkpoints,
// the checkpoint file, the vkey, the file anchor, `checkpoint`, `prove` and
// `verify --receipt --proof`, and the same tree continued across SIGTERM and
// SIGKILL restarts. Roots are also recomputed here by the RFC 6962 definition
// (tests/helpers/test-log.ts), independently of the project's tree code.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, tempDir } from "../helpers/fixtures.ts";
import { mth } from "../helpers/test-log.ts";
import { daemonTracker, runCli, waitFor } from "../daemon/support.ts";
import type { DaemonHandle } from "../helpers/daemon.ts";
import { TreeStore } from "../../src/store/tree-store.ts";
import { leafHash, verifyConsistency, verifyInclusion } from "../../src/tlog/merkle.ts";
import { parseCheckpoint } from "../../src/tlog/checkpoint.ts";
import { openNote, parseVerifierKey } from "../../src/tlog/note.ts";
import { splitNotes } from "../../src/tlog/note-file.ts";

const daemons = daemonTracker();
afterAll(() => daemons.stopAll());

const EVERY = 700;
const AGENTS = ["planner", "coder", "tester"];

function writeConfig(dir: string, extra = ""): string {
  const path = join(dir, "daemon.toml");
  writeFileSync(path, `checkpoint_every = ${EVERY}\ncheckpoint_interval = "60s"\nlog_origin = "test.example/agent-receipts/e2e"\nanchors = ["file:${join(dir, "anchor.log")}"]\n${extra}`);
  return path;
}

/** Sends `count` events through `emit --stdin` (one process, confirmed commits), spread over the root chain and sub-agent chains. */
function emit(d: DaemonHandle, from: number, count: number): void {
  const lines = Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const agent = i % 4 === 0 ? {} : { agent_id: AGENTS[i % 3] };
    return JSON.stringify({ tool: { name: `tool-${i % 7}` }, decision: "allowed", input: { i }, session_id: "tlog-e2e", ...agent });
  }).join("\n");
  const r = spawnSync(BINARY, ["emit", "--stdin", "--socket", d.socket], { input: `${lines}\n`, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`emit failed (${r.status}): ${r.stderr}`);
}

/** The leaf hashes of the receipts in commit order, straight from the receipts table. */
function receiptLeaves(db: string): Uint8Array[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.query<{ h: string }, []>("SELECT receipt_hash AS h FROM receipts ORDER BY rowid").all()
      .map((r) => leafHash(new Uint8Array(Buffer.from(r.h.slice("sha256:".length), "hex"))));
  } finally {
    conn.close();
  }
}

interface Stored {
  size: number;
  note: string;
}

function storedCheckpoints(db: string): Stored[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.query<Stored, []>("SELECT size, note FROM tlog_checkpoints ORDER BY size").all();
  } finally {
    conn.close();
  }
}

function withTree<T>(db: string, fn: (tree: TreeStore) => T): T {
  const conn = new Database(db, { readonly: true });
  try {
    const tree = TreeStore.open(conn)!;
    return tree.snapshot(() => fn(tree));
  } finally {
    conn.close();
  }
}

describe("transparency log through the compiled daemon", () => {
  let d: DaemonHandle;
  let dir: string;
  let vkey: string;

  test("10,000 receipts of several chains: checkpoints signed every checkpoint_every receipts, with the vkey and the files published", async () => {
    dir = tempDir("ar-tlog-e2e-");
    d = await daemons.start({ dir, args: ["--config", writeConfig(dir), "--chain-id", "tlog"] });
    for (let from = 0; from < 10_000; from += 400) emit(d, from, 400);
    expect(await d.stop()).toBe(0);
    const leaves = receiptLeaves(d.db);
    // 10,000 events, plus the terminators of the root and the three sub-agent chains.
    expect(leaves.length).toBe(10_004);
    vkey = readFileSync(join(dir, "log.vkey"), "utf8").trim();
    expect(vkey.startsWith("test.example/agent-receipts/e2e+")).toBe(true);
    expect(statSync(join(dir, "log.vkey")).mode & 0o777).toBe(0o644);
    expect(statSync(join(dir, "log.checkpoint")).mode & 0o777).toBe(0o644);
    const checkpoints = storedCheckpoints(d.db);
    // One at the first commit that leaves EVERY receipts uncovered (a commit carries up to 2,048 events), and the last one, at shutdown, after the terminators.
    expect(checkpoints.length).toBeGreaterThanOrEqual(8);
    expect(checkpoints[checkpoints.length - 1]!.size).toBe(10_004);
    for (let i = 1; i < checkpoints.length - 1; i++) {
      const gap = checkpoints[i]!.size - checkpoints[i - 1]!.size;
      expect(gap).toBeGreaterThanOrEqual(EVERY);
      expect(gap).toBeLessThan(EVERY + 2048);
    }
    const verifier = parseVerifierKey(vkey);
    for (const c of checkpoints) {
      const body = parseCheckpoint(openNote(c.note, [verifier]).text);
      expect(body.origin).toBe("test.example/agent-receipts/e2e");
      expect(body.size).toBe(c.size);
      // The root by the RFC 6962 definition over the receipts in commit order.
      expect(Buffer.from(body.root).toString("base64")).toBe(Buffer.from(mth(leaves.slice(0, c.size))).toString("base64"));
    }
    // The published file is the newest checkpoint; the file anchor got each one.
    expect(readFileSync(join(dir, "log.checkpoint"), "utf8")).toBe(checkpoints[checkpoints.length - 1]!.note);
    const anchored = splitNotes(readFileSync(join(dir, "anchor.log"), "utf8")).notes;
    expect(anchored[anchored.length - 1]).toBe(checkpoints[checkpoints.length - 1]!.note);
    expect(anchored.length).toBeGreaterThanOrEqual(2);
  }, 180_000);

  test("every receipt's inclusion proof verifies against every checkpoint; every pair of checkpoints is consistent", () => {
    const leaves = receiptLeaves(d.db);
    const checkpoints = storedCheckpoints(d.db).map((c) => parseCheckpoint(c.note.slice(0, c.note.lastIndexOf("\n\n") + 1)));
    let proofs = 0;
    withTree(d.db, (tree) => {
      for (const c of checkpoints) {
        for (let i = 0; i < c.size; i++) {
          if (!verifyInclusion(i, c.size, leaves[i]!, tree.inclusionProof(i, c.size), c.root)) throw new Error(`leaf ${i} at size ${c.size}`);
          proofs++;
        }
      }
      for (const a of checkpoints) {
        for (const b of checkpoints) {
          if (a.size > b.size) continue;
          expect(verifyConsistency(a.size, b.size, tree.consistencyProof(a.size, b.size), a.root, b.root)).toBe(true);
        }
      }
    });
    expect(proofs).toBe(checkpoints.reduce((n, c) => n + c.size, 0));
    expect(proofs).toBeGreaterThan(40_000);
  }, 180_000);

  test("checkpoint, prove and verify --receipt --proof through the binary, offline", () => {
    const cp = runCli(["checkpoint", "--db", d.db, "--json"]);
    expect(cp.code).toBe(0);
    const json = JSON.parse(cp.stdout) as { size: number; origin: string; tree_size: number; note: string };
    expect(json).toMatchObject({ size: 10_004, origin: "test.example/agent-receipts/e2e", tree_size: 10_004 });
    const out = tempDir("ar-tlog-proof-");
    for (const ref of ["tlog:1", "tlog/agent/coder:5", "tlog:2501"]) {
      const show = runCli(["show", ref, "--db", d.db, "--json"]);
      expect(show.code).toBe(0);
      const receipt = join(out, "r.json");
      const proof = join(out, "r.tlog-proof");
      writeFileSync(receipt, show.stdout);
      const p = runCli(["prove", ref, "--db", d.db, "--out", proof]);
      expect(p.stderr).toContain("leaf ");
      expect(p.code).toBe(0);
      expect(readFileSync(proof, "utf8").startsWith("c2sp.org/tlog-proof@v1\nindex ")).toBe(true);
      // No database: only the receipt, the proof and the public key.
      const v = runCli(["verify", "--receipt", receipt, "--proof", proof, "--public-key", d.publicKey]);
      expect(v.stdout).toContain("VALID");
      expect(v.code).toBe(0);
      // Another receipt with this proof does not verify.
      const other = runCli(["show", "tlog:3", "--db", d.db, "--json"]);
      writeFileSync(receipt, other.stdout);
      const bad = runCli(["verify", "--receipt", receipt, "--proof", proof, "--public-key", d.publicKey]);
      expect(bad.stdout).toContain("INVALID");
      expect(bad.code).toBe(1);
    }
    const v = runCli(["verify", "--db", d.db, "--public-key", d.publicKey, "--checkpoint", join(dir, "log.checkpoint"), "--json"]);
    expect(v.code).toBe(0);
    const report = JSON.parse(v.stdout) as { valid: boolean; log: { verdict: string; receipts: number; checkpoints: number; external: Array<{ state: string }> } };
    expect(report.valid).toBe(true);
    expect(report.log.verdict).toBe("ok");
    expect(report.log.receipts).toBe(10_004);
    expect(report.log.external.map((e) => e.state)).toEqual(["consistent"]);
  }, 120_000);

  test("export --with-key writes the checkpoint and a proof per receipt; verify --file --proofs --checkpoint checks them all, offline", () => {
    const out = join(tempDir("ar-tlog-export-"), "bundle");
    const e = runCli(["export", "--db", d.db, "--public-key", d.publicKey, "--with-key", out, "--chain", "tlog/agent/coder"], {}, { timeoutMs: 120_000 });
    expect(e.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as { verify: string; log: { checkpoint_size: number; proven: number; after_checkpoint: number } };
    expect(manifest.log).toMatchObject({ checkpoint_size: 10_004, after_checkpoint: 0 });
    expect(manifest.log.proven).toBeGreaterThan(2000);
    expect(manifest.verify).toBe("agent-receipts verify --file receipts.jsonl --public-key signing.key.pub --proofs log.proofs --checkpoint log.checkpoint");
    const args = ["verify", "--file", join(out, "receipts.jsonl"), "--public-key", join(out, "signing.key.pub"), "--proofs", join(out, "log.proofs"), "--checkpoint", join(out, "log.checkpoint")];
    const v = runCli(args, {}, { timeoutMs: 120_000 });
    expect(v.stdout).toContain(`log: ${manifest.log.proven} of ${manifest.log.proven} receipt(s) proven to be in checkpoint test.example/agent-receipts/e2e (size 10004`);
    expect(v.code).toBe(0);
    // One proof moved to another leaf: that line fails, exit 1.
    const proofs = readFileSync(join(out, "log.proofs"), "utf8").split("\n");
    const first = JSON.parse(proofs[0]!) as { index: number };
    proofs[0] = proofs[0]!.replace(`"index":${first.index},`, `"index":${first.index + 1},`);
    writeFileSync(join(out, "log.proofs"), proofs.join("\n"));
    const bad = runCli(args, {}, { timeoutMs: 120_000 });
    expect(bad.stdout).toContain("line 1: receipt ");
    expect(bad.code).toBe(1);
  }, 120_000);

  test("restarts after SIGTERM and SIGKILL continue the same tree, consistent with every earlier checkpoint", async () => {
    const before = storedCheckpoints(d.db);
    d = await daemons.start({ dir, args: ["--config", writeConfig(dir), "--chain-id", "tlog"] });
    emit(d, 10_000, 1000);
    // SIGKILL: no terminator and no final checkpoint; the committed receipts and their leaves are there.
    expect(await d.stop("SIGKILL")).toBe("SIGKILL");
    const afterKill = receiptLeaves(d.db).length;
    d = await daemons.start({ dir, args: ["--config", writeConfig(dir), "--chain-id", "tlog"] });
    // At start, receipts no checkpoint covers (those the kill left) are covered at once.
    await waitFor("a checkpoint at start", () => storedCheckpoints(d.db).at(-1)!.size, (n) => n === afterKill);
    emit(d, 11_000, 1500);
    expect(await d.stop()).toBe(0);
    const leaves = receiptLeaves(d.db);
    const all = storedCheckpoints(d.db);
    expect(all.slice(0, before.length)).toEqual(before);
    expect(all.at(-1)!.size).toBe(leaves.length);
    const parsed = all.map((c) => parseCheckpoint(c.note.slice(0, c.note.lastIndexOf("\n\n") + 1)));
    withTree(d.db, (tree) => {
      expect(tree.size).toBe(leaves.length);
      const last = parsed.at(-1)!;
      expect(Buffer.from(last.root).equals(Buffer.from(mth(leaves)))).toBe(true);
      for (const c of parsed) expect(verifyConsistency(c.size, last.size, tree.consistencyProof(c.size, last.size), c.root, last.root)).toBe(true);
    });
    const v = runCli(["verify", "--db", d.db, "--public-key", d.publicKey, "--checkpoint", join(dir, "anchor.log")]);
    expect(v.stdout).toContain("matches them");
    expect(v.code).toBe(0);
  }, 180_000);
});
