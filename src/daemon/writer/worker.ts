// The chain writer thread: sole owner of the signing key, the database
// connection and the chain tails. Takes batches from the receiver and commits
// each as one transaction (group commit).
import { ChainWriter, CommitError } from "../pipeline/chain-writer.ts";
import { establishIdentity } from "../identity.ts";
import { StoreWriter } from "../../store/writer.ts";
import type { FromWriter, ToWriter } from "./messages.ts";

declare const self: Worker;

let store: StoreWriter | null = null;
let writer: ChainWriter | null = null;

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
        store = new StoreWriter(msg.dbPath);
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
        });
      } catch (err) {
        reply({ kind: "init_failed", message: (err as Error).message });
      }
      return;
    case "batch": {
      const started = performance.now();
      try {
        const result = writer!.commit(msg.events);
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
    case "shutdown": {
      let terminated: string[] = [];
      try {
        terminated = writer?.terminate() ?? [];
      } catch (err) {
        // The database is closed (and its WAL folded) even when the terminators could not be written.
        closeStore();
        reply({ kind: "close_failed", message: `terminators not written: ${(err as Error).message}` });
        return;
      }
      try {
        reply({ kind: "closed", terminated, walFolded: store?.close() ?? true });
      } catch (err) {
        reply({ kind: "close_failed", message: (err as Error).message });
      }
      return;
    }
  }
};
