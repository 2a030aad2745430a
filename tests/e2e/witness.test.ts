// `agent-receipts witness` through the compiled binary: keys, and the C2SP
// tlog-witness add-checkpoint protocol over real HTTP on 127.0.0.1, with its
// own SQLite state surviving SIGTERM and SIGKILL restarts.
import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { verifyCosignature } from "../../src/tlog/cosignature.ts";
import { BINARY, tempDir } from "../helpers/fixtures.ts";
import { TestLog } from "../helpers/test-log.ts";
import { addCheckpoint, initWitnessKey, startWitness, type WitnessProcess } from "../helpers/witness.ts";

const running: WitnessProcess[] = [];
afterEach(async () => {
  for (const w of running.splice(0)) await w.stop("SIGKILL");
});

async function witnessFor(logs: TestLog[], dir = tempDir("ar-witness-"), key = initWitnessKey(dir)) {
  const db = join(dir, "witness.db");
  const w = await startWitness({ db, key: key.key, logs: logs.map((l) => l.vkey) });
  running.push(w);
  return { w, dir, db, key };
}

function run(args: string[]) {
  return spawnSync(BINARY, args, { encoding: "utf8", timeout: 15_000 });
}

/** A user error: exit 2 and one line naming the problem, no stack trace. */
function expectOneLineError(r: ReturnType<typeof run>, pattern: RegExp): void {
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split("\n").length).toBe(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("witness keys", () => {
  test("init creates a 0600 key and a 0644 cosignature/v1 vkey, never overwrites, and show prints the vkey", () => {
    const dir = tempDir("ar-witness-keys-");
    const key = initWitnessKey(dir, "witness.example/w9");
    expect(statSync(key.key).mode & 0o777).toBe(0o600);
    expect(statSync(key.vkeyFile).mode & 0o777).toBe(0o644);
    expect(key.vkey).toMatch(/^witness\.example\/w9\+[0-9a-f]{8}\+B[A-P]/); // base64 of 0x04 || key: "BA" to "BP"
    const again = run(["witness", "keys", "init", "--key", key.key]);
    expectOneLineError(again, /already exists; refusing to overwrite/);
    const show = run(["witness", "keys", "show", "--key", key.key]);
    expect(show.status).toBe(0);
    expect(show.stdout).toBe(`${key.vkey}\n`);
    expectOneLineError(run(["witness", "keys", "init", "--key", join(dir, "other.key"), "--name", "has space"]), /not a valid key name/);
  });

  test("serve refuses bad options with one line each", () => {
    const dir = tempDir("ar-witness-args-");
    const key = initWitnessKey(dir);
    const log = new TestLog("log.test/a");
    const base = ["witness", "serve", "--db", join(dir, "w.db"), "--key", key.key];
    expectOneLineError(run([...base, "--listen", "localhost", "--log", log.vkey]), /--listen "localhost" is not HOST:PORT/);
    expectOneLineError(run([...base, "--listen", "127.0.0.1:0"]), /no log to witness/);
    expectOneLineError(run([...base, "--listen", "127.0.0.1:0", "--log", key.vkey]), /0x04.*not Ed25519/);
    expectOneLineError(run([...base, "--listen", "127.0.0.1:0", "--log", "junk"]), /not a note verifier key/);
    // A vkey that is not the key's public half.
    const other = initWitnessKey(tempDir("ar-witness-other-"));
    expectOneLineError(run([...base, "--listen", "127.0.0.1:0", "--log", log.vkey, "--vkey", other.vkeyFile]), /not the public half/);
    // An address in use (a listener of this test process holds it).
    const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      expectOneLineError(run([...base, "--listen", `127.0.0.1:${busy.port}`, "--log", log.vkey]), /cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\).*Fix: choose another --listen address/);
    } finally {
      busy.stop(true);
    }
    // Another program's SQLite file (here: a receipts-like database) is not taken over.
    const foreign = join(dir, "receipts.db");
    const db = new Database(foreign);
    db.run("CREATE TABLE receipts (id TEXT)");
    db.close();
    expectOneLineError(run(["witness", "serve", "--db", foreign, "--key", key.key, "--listen", "127.0.0.1:0", "--log", log.vkey]), /is not a witness database/);
  });
});

describe("witness serve: add-checkpoint over HTTP", () => {
  test("cosigns a first checkpoint and each consistent one after it; the cosignature verifies with the vkey", async () => {
    const log = new TestLog("log.test/a").grow(5);
    const { w, key } = await witnessFor([log]);
    const first = await addCheckpoint(w.url, log.request(0));
    expect(first.status).toBe(200);
    expect(first.body.startsWith("\u2014 witness.test/w1 ")).toBe(true);
    expect(first.body.endsWith("\n")).toBe(true);
    const t1 = verifyCosignature(key.vkey, log.text(5), first.body);
    expect(t1).not.toBeNull();
    expect(Math.abs(t1!.time - Date.now() / 1000)).toBeLessThan(60);

    for (const [from, to] of [[5, 8], [8, 8], [8, 100], [100, 1000]] as const) {
      log.grow(to);
      const r = await addCheckpoint(w.url, log.request(from, to));
      expect(`${from}->${to} ${r.status} ${r.body}`).toBe(`${from}->${to} 200 ${r.body}`);
      expect(verifyCosignature(key.vkey, log.text(to), r.body)).not.toBeNull();
      // Never a cosignature for another checkpoint.
      expect(verifyCosignature(key.vkey, log.text(from === to ? 5 : from), r.body)).toBeNull();
    }

    // The monitoring API serves the latest, with the log's signature and the witness's cosignature.
    const hash = createHash("sha256").update(log.origin).digest("hex");
    const served = await fetch(`${w.url}/${hash}/checkpoint`);
    expect(served.status).toBe(200);
    const note = await served.text();
    expect(note.startsWith(`${log.text(1000)}\n`)).toBe(true);
    expect(note).toContain("\u2014 log.test/a ");
    expect(note).toContain("\u2014 witness.test/w1 ");
    expect((await fetch(`${w.url}/${"0".repeat(64)}/checkpoint`)).status).toBe(404);
  });

  test("answers 409 with its size (text/x.tlog.size) when the old size is not the one it cosigned", async () => {
    const log = new TestLog("log.test/a").grow(10);
    const { w } = await witnessFor([log]);
    expect((await addCheckpoint(w.url, log.request(0))).status).toBe(200);
    log.grow(20);
    for (const old of [0, 5, 11]) {
      const r = await addCheckpoint(w.url, log.request(old, 20));
      expect(r.status).toBe(409);
      expect(r.contentType).toBe("text/x.tlog.size");
      expect(r.body).toBe("10\n");
    }
    // What a client does next: retry from the size it learnt.
    expect((await addCheckpoint(w.url, log.request(10, 20))).status).toBe(200);
  });

  test("refuses a bad proof, a fork at the same size and a forked extension with 422, and stays at its size", async () => {
    const log = new TestLog("log.test/a").grow(13);
    const { w, key } = await witnessFor([log]);
    expect((await addCheckpoint(w.url, log.request(0))).status).toBe(200);
    log.grow(40);
    const proof = log.consistency(13, 40);
    // A flipped byte in one proof hash; a missing hash; an extra hash.
    const flipped = proof.map((h, i) => (i === 1 ? h.map((b, j) => (j === 0 ? b ^ 1 : b)) : h));
    for (const bad of [flipped, proof.slice(1), [...proof, proof[0]!]]) {
      const r = await addCheckpoint(w.url, log.request(13, 40, bad));
      expect(r.status).toBe(422);
      expect(r.body).toMatch(/consistency proof from size 13/);
    }
    // A fork: same key and origin, other entries from leaf 0 (what a rewritten database gives).
    const fork = log.fork("rewritten");
    fork.grow(13);
    const sameSize = await addCheckpoint(w.url, fork.request(13, 13));
    expect(sameSize.status).toBe(422);
    expect(sameSize.body).toMatch(/^fork: size 13 was cosigned with root /);
    fork.grow(40);
    expect((await addCheckpoint(w.url, fork.request(13, 40))).status).toBe(422);
    // Still at 13, with the honest root: the honest log continues.
    const r = await addCheckpoint(w.url, log.request(13, 40));
    expect(r.status).toBe(200);
    expect(verifyCosignature(key.vkey, log.text(40), r.body)).not.toBeNull();
  });

  test("404 for an unknown origin, 403 without a valid trusted signature, 400 for malformed requests", async () => {
    const log = new TestLog("log.test/a").grow(3);
    const stranger = new TestLog("log.test/unknown").grow(3);
    const { w } = await witnessFor([log]);
    expect((await addCheckpoint(w.url, stranger.request(0))).status).toBe(404);

    // Signed by another key under the log's name: no trusted signature.
    const impostor = new TestLog(log.origin).grow(3);
    expect((await addCheckpoint(w.url, impostor.request(0))).status).toBe(403);
    // The trusted key's line with a corrupted signature.
    const note = log.checkpoint(3);
    const corrupted = note.replace(/ ([A-Za-z0-9+/]{10})([A-Za-z0-9+/])/, (_m, a: string, c: string) => ` ${a}${c === "A" ? "B" : "A"}`);
    expect(corrupted).not.toBe(note);
    expect((await addCheckpoint(w.url, log.request(0, 3, [], corrupted))).status).toBe(403);

    expect((await addCheckpoint(w.url, log.request(4, 3, []))).status).toBe(400); // old > size
    for (const body of ["", "old 01\n\n" + note, "old 0\n" + note, "old 0\nnot-base64\n\n" + note, `old 0\n\n${log.text(3)}`, "new 0\n\n" + note]) {
      const r = await addCheckpoint(w.url, body);
      expect(`${JSON.stringify(body.slice(0, 12))} ${r.status}`).toBe(`${JSON.stringify(body.slice(0, 12))} 400`);
      expect(r.body.trim().split("\n").length).toBe(1);
    }
    const tooMany = log.request(0, 3, Array.from({ length: 64 }, () => new Uint8Array(32)));
    expect((await addCheckpoint(w.url, tooMany)).status).toBe(400);
    expect((await fetch(`${w.url}/add-checkpoint`)).status).toBe(405);
    expect((await fetch(`${w.url}/add-checkpoint`, { method: "POST", body: new Uint8Array([0x6f, 0x6c, 0x64, 0x20, 0xff]) })).status).toBe(400);
    expect((await fetch(`${w.url}/add-checkpoint`, { method: "POST", body: "x".repeat(300 * 1024) })).status).toBe(413);
    // After all that, the log is still welcome from 0: nothing was recorded.
    expect((await addCheckpoint(w.url, log.request(0))).status).toBe(200);
  });

  test("size 0 needs the empty tree's root, and old size 0 takes no proof (422)", async () => {
    const log = new TestLog("log.test/a");
    const { w } = await witnessFor([log]);
    const wrongEmpty = log.sign(`${log.origin}\n0\n${Buffer.alloc(32).toString("base64")}\n`);
    expect((await addCheckpoint(w.url, `old 0\n\n${wrongEmpty}`)).status).toBe(422);
    expect((await addCheckpoint(w.url, log.request(0))).status).toBe(200); // the real empty checkpoint
    log.grow(4);
    expect((await addCheckpoint(w.url, log.request(0, 4, log.consistency(2, 4)))).status).toBe(422);
    expect((await addCheckpoint(w.url, log.request(0, 4))).status).toBe(200);
  });

  test("concurrent submissions of two forks from the same size: exactly one is cosigned", async () => {
    const log = new TestLog("log.test/a").grow(8);
    const { w } = await witnessFor([log]);
    expect((await addCheckpoint(w.url, log.request(0))).status).toBe(200);
    const a = log.fork("fork-a", 8).grow(30);
    const b = log.fork("fork-b", 8).grow(30);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => addCheckpoint(w.url, (i % 2 === 0 ? a : b).request(8, 30))));
    const ok = answers.filter((r) => r.status === 200);
    expect(ok.length).toBe(1);
    expect(answers.filter((r) => r.status === 409).length).toBe(19);
  });
});

describe("witness state survives restarts", () => {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    test(`after ${signal}, it still holds its size and still refuses the fork`, async () => {
      const log = new TestLog("log.test/a").grow(50);
      const first = await witnessFor([log]);
      expect((await addCheckpoint(first.w.url, log.request(0))).status).toBe(200);
      log.grow(77);
      expect((await addCheckpoint(first.w.url, log.request(50))).status).toBe(200);
      const fork = log.fork("rewritten").grow(77);
      expect((await addCheckpoint(first.w.url, fork.request(77))).status).toBe(422);
      const exit = await first.w.stop(signal);
      expect(exit).toBe(signal === "SIGTERM" ? 0 : "SIGKILL");

      const again = await startWitness({ db: first.db, key: first.key.key, logs: [log.vkey] });
      running.push(again);
      const r = await addCheckpoint(again.url, fork.request(0));
      expect(r.status).toBe(409);
      expect(r.body).toBe("77\n");
      expect((await addCheckpoint(again.url, fork.request(77))).status).toBe(422);
      fork.grow(90);
      expect((await addCheckpoint(again.url, fork.request(77, 90))).status).toBe(422);
      log.grow(90);
      expect((await addCheckpoint(again.url, log.request(77, 90))).status).toBe(200);
    });
  }

  test("a second witness on the same database is refused while the first runs", async () => {
    const log = new TestLog("log.test/a");
    const first = await witnessFor([log]);
    const second = run(["witness", "serve", "--listen", "127.0.0.1:0", "--db", first.db, "--key", first.key.key, "--log", log.vkey]);
    expectOneLineError(second, /in use by another witness process/);
  });

  test("several logs from --log words and --log-file, each with its own state", async () => {
    const a = new TestLog("log.test/a").grow(3);
    const b = new TestLog("log.test/b").grow(6);
    const c = new TestLog("log.test/c").grow(9);
    const dir = tempDir("ar-witness-multi-");
    const key = initWitnessKey(dir);
    const logFile = join(dir, "logs.txt");
    writeFileSync(logFile, `# trusted logs\n${c.vkey}\n`);
    const w = await startWitness({ db: join(dir, "w.db"), key: key.key, args: ["--log-file", logFile], logs: [a.vkey, b.vkey] });
    running.push(w);
    for (const log of [a, b, c]) expect((await addCheckpoint(w.url, log.request(0))).status).toBe(200);
    expect((await addCheckpoint(w.url, a.request(0))).body).toBe("3\n");
    expect((await addCheckpoint(w.url, c.request(0))).body).toBe("9\n");
  });
});
