// The transparency log in the writer thread at start: the note signer from
// the daemon's key, leaves for receipts that have none (a database from
// before the log), the checks of the tree against the newest checkpoint,
// and the checkpoint policy.
import type { KeySource } from "../../receipt/key-source.ts";
import { rawPublicKey } from "../../receipt/keys.ts";
import type { StoreWriter } from "../../store/writer.ts";
import type { TlogWriter } from "../../store/tlog-writer.ts";
import type { StoredCheckpoint } from "../../store/tlog-tables.ts";
import { equalHashes } from "../../tlog/merkle.ts";
import { ed25519NoteSigner, ed25519VerifierKey, formatSignatureLine, parseSignatureLines } from "../../tlog/note.ts";
import { defaultLogOrigin } from "../../tlog/origin.ts";
import { Checkpointer } from "./checkpointer.ts";
import type { IssuedCheckpoint, TlogReady, TlogSettings } from "./messages.ts";

export function issued(c: StoredCheckpoint): IssuedCheckpoint {
  return { note: c.note, size: c.size, root: c.root, createdAt: c.createdAt };
}

/** What is wrong between the tree and the newest stored checkpoint; empty when they agree. */
function startProblems(tlog: TlogWriter): string[] {
  const problems: string[] = [];
  const latest = tlog.latestCheckpoint;
  if (latest !== null) {
    if (latest.size > tlog.size) {
      problems.push(`the tree has ${tlog.size} leaves but the newest checkpoint covers ${latest.size}: receipts and their leaves were removed`);
    } else {
      try {
        if (!equalHashes(tlog.hashes.root(latest.size), latest.root)) problems.push(`the tree's root at size ${latest.size} is not the newest checkpoint's: the log was rewritten`);
      } catch (err) {
        problems.push(`the tree cannot give its root at size ${latest.size}: ${(err as Error).message}`);
      }
    }
  }
  if (tlog.lastLeafMatches() === false) problems.push("the last leaf of the tree is not the receipt committed last: receipts were removed or rewritten");
  return problems;
}

export interface TlogStart {
  checkpointer: Checkpointer;
  ready: TlogReady;
}

export function startTlog(store: StoreWriter, key: KeySource, settings: TlogSettings, onError: (message: string) => void): TlogStart | null {
  const tlog = store.tlog;
  if (tlog === null) return null;
  const raw = rawPublicKey(key.publicKey);
  const origin = settings.origin ?? defaultLogOrigin(key.fingerprint);
  const signer = ed25519NoteSigner(origin, (m) => key.sign(m), raw);
  const backfilled = tlog.backfill();
  const problems = startProblems(tlog);
  const checkpointer = new Checkpointer(tlog, signer, { every: settings.every, intervalMs: settings.intervalMs }, onError);
  const latest = tlog.latestCheckpoint;
  return {
    checkpointer,
    ready: {
      origin, vkey: ed25519VerifierKey(origin, raw), size: tlog.size, backfilled, problems,
      latest: latest === null ? null : issued(latest),
    },
  };
}

/** Cosignature lines as rows: key name and id from each line; malformed lines are dropped. */
export function cosignatureRows(lines: readonly string[], anchor: string): Array<{ keyName: string; keyId: string; line: string; anchor: string }> {
  const rows = [];
  for (const line of lines) {
    try {
      for (const s of parseSignatureLines(line.endsWith("\n") ? line : `${line}\n`)) {
        rows.push({ keyName: s.name, keyId: Buffer.from(s.keyId).toString("hex"), line: formatSignatureLine(s.name, s.keyId, s.signature), anchor });
      }
    } catch {
      // The anchor verified its lines; one that does not even parse is not stored.
    }
  }
  return rows;
}
