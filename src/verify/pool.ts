// A small pool of verify workers. Batches go out round-robin and results come
// back in submission order, so the in-order chain rules see receipts in order.
import { availableParallelism } from "node:os";
import { workerPath } from "../runtime/worker-path.ts";
import { WORKERS } from "../runtime/workers.ts";
import type { BatchResult, BatchSource, VerifyRequest, VerifyResponse } from "./pool-messages.ts";

interface Pending {
  resolve: (result: BatchResult) => void;
  reject: (err: Error) => void;
}

export class VerifyPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextBatch = 0;

  constructor(publicKeyPem: string, size = availableParallelism()) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = new Worker(workerPath(WORKERS.verify));
      worker.onmessage = (event: MessageEvent<VerifyResponse>) => {
        const p = this.pending.get(event.data.batch);
        this.pending.delete(event.data.batch);
        if ("result" in event.data) p?.resolve(event.data.result);
        else p?.reject(new Error(event.data.error));
      };
      worker.onerror = (event) => {
        const err = new Error(`verify worker failed: ${event.message}`);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      };
      worker.postMessage({ kind: "init", publicKeyPem } satisfies VerifyRequest);
      this.workers.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Checks a non-empty batch of receipts at chain indexes base, base+1, ... */
  check(source: BatchSource, base: number): Promise<BatchResult> {
    const batch = this.nextBatch++;
    const worker = this.workers[batch % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(batch, { resolve, reject });
      worker.postMessage({ kind: "batch", batch, base, source } satisfies VerifyRequest);
    });
  }

  close(): void {
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
