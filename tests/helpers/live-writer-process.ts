// Spawns tests/helpers/live-writer.ts and follows its progress.
import { join } from "node:path";

export interface WriterChild {
  proc: ReturnType<typeof Bun.spawn>;
  /** Resolves when the child has printed a line matching `re`; returns the match. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  committed(): number;
  output(): string;
}

export function spawnWriter(db: string, keyPath: string, chainId: string, batch = 20, pauseMs = 5): WriterChild {
  const script = join(import.meta.dir, "live-writer.ts");
  const proc = Bun.spawn([process.execPath, script, db, keyPath, chainId, String(batch), String(pauseMs)], { stdout: "pipe", stderr: "pipe" });
  let out = "";
  let last = 0;
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      out += decoder.decode(value, { stream: true });
      const all = [...out.matchAll(/committed (\d+)\n/g)];
      if (all.length > 0) last = Number(all[all.length - 1]![1]);
    }
  })();
  return {
    proc,
    committed: () => last,
    output: () => out,
    async waitFor(re, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(re);
        if (m) return m;
        if (proc.exitCode !== null) throw new Error(`writer child exited ${proc.exitCode}: ${out} ${await new Response(proc.stderr as ReadableStream).text()}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in writer child output: ${out}`);
        await Bun.sleep(5);
      }
    },
  };
}
