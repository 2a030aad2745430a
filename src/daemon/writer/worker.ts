// The chain writer thread: sole owner of the signing key, the database
// connection and the chain tails. Takes batches from the receiver and commits
// each as one transaction (group commit).
import { ChainWriter, CommitError } from "../pipeline/chain-writer.ts";
import { establishIdentity } from "../identity.ts";
import { StoreWriter } from "../../store/writer.ts";
import type { FromWriter, ToWriter } from "./messages.ts";
import type { Checkpointer } from "./checkpointer.ts";
import { cosignatureRows, issued, startTlog } from "./tlog-start.ts";

declare const self: Worker;

let store: StoreWriter | null = null;
let writer: ChainWriter | null = null;
let checkpointer: Checkpointer | null = null;
let terminatedChains: string[] = [];

function reply(msg: FromWriter): void {
  self.postMessage(msg);
}

function closeStore(): void {
  try {
    store?.close();
  } catch {
    // Already failing: the caller reports the first error.
  }
}

self.onmessage = (event: MessageEvent<ToWriter>) => {
  const msg = event.data;
  switch (msg.kind) {
    case "init":
      try {
        // The signing key is loaded here, by its only user, and never leaves this thread.
        const identity = establishIdentity(msg.keyPath, msg.publicKeyPath, msg.dbPath);
        store = new StoreWriter(msg.dbPath, { tlog: msg.tlog !== null });
        const tlog = msg.tlog === null ? null : startTlog(store, identity.key, msg.tlog, (message) => reply({ kind: "checkpoint_failed", message }));
        checkpointer = tlog?.checkpointer ?? null;
        if (store.tlog !== null) store.tlog.onCheckpoint = (c) => reply({ kind: "checkpoint", checkpoint: issued(c) });
        writer = new ChainWriter({
          store,
          signer: identity.key,
          issuerId: msg.issuerId,
          verificationMethod: msg.verificationMethod,
          chainIdBase: msg.chainIdBase,
          maxAgentChains: msg.maxAgentChains,
        });
        reply({
          kind: "ready", rootChainId: writer.rootChainId, resumedFrom: writer.resumedFrom,
          fingerprint: identity.key.fingerprint, keyCreated: identity.created, publicKeyPublished: identity.published,
          tlog: tlog?.ready ?? null,
        });
      } catch (err) {
        reply({ kind: "init_failed", message: (err as Error).message });
        return;
      }
      // Receipts no checkpoint covers yet (a database from before the log, a crash): covered now.
      try {
        checkpointer?.issueNow();
      } catch (err) {
        reply({ kind: "checkpoint_failed", message: (err as Error).message });
      }
      return;
    case "batch": {
      const started = performance.now();
      try {
        const result = writer!.commit(msg.events);
        checkpointer?.afterCommit();
        reply({
          kind: "committed",
          throughNo: msg.events[msg.events.length - 1]!.no,
          events: msg.events.length,
          receipts: result.receipts,
          rejected: result.rejected,
          commitMs: performance.now() - started,
        });
      } catch (err) {
        reply({ kind: "commit_failed", message: err instanceof CommitError ? err.message : `unexpected: ${(err as Error).message}` });
      }
      return;
    }
    case "cosignatures": {
      try {
        const added = store!.tlog!.addCosignatures(msg.size, cosignatureRows(msg.lines, msg.anchor), new Date());
        reply({ kind: "cosignatures_stored", size: msg.size, anchor: msg.anchor, added });
      } catch (err) {
        reply({ kind: "cosignatures_failed", size: msg.size, anchor: msg.anchor, message: (err as Error).message });
      }
      return;
    }
    case "shutdown": {
      let terminated: string[] = [];
      try {
        terminated = writer?.terminate() ?? [];
      } catch (err) {
        // The database is closed (and its WAL folded) even when the terminators could not be written.
        checkpointer?.stop();
        closeStore();
        reply({ kind: "close_failed", message: `terminators not written: ${(err as Error).message}` });
        return;
      }
      // The last checkpoint covers the terminators.
      try {
        checkpointer?.issueNow();
      } catch (err) {
        reply({ kind: "checkpoint_failed", message: `final checkpoint not written: ${(err as Error).message}` });
      }
      checkpointer?.stop();
      terminatedChains = terminated;
      // The database stays open for the anchors' last cosignatures; "close" closes it.
      reply({ kind: "terminated", terminated });
      return;
    }
    case "close": {
      try {
        reply({ kind: "closed", terminated: terminatedChains, walFolded: store?.close() ?? true });
      } catch (err) {
        reply({ kind: "close_failed", message: (err as Error).message });
      }
      return;
    }
  }
};
