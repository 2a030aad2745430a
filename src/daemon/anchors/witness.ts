// The `witness:URL VKEY` anchor: submits each checkpoint to a C2SP
// tlog-witness (POST <URL>/add-checkpoint) with the consistency proof from the
// size the witness last cosigned, learnt from its 409 answer (it starts from 0
// after a daemon restart), and returns the cosignatures that verify with the
// witness's vkey. Failures throw; the anchor runner retries with backoff, and
// the next attempt catches the witness up to the newest checkpoint in one proof.
import { checkpointTextOf } from "../../tlog/checkpoint.ts";
import { encodeBase64 } from "../../tlog/note.ts";
import { parseCosignerKey, verifyCosignature, type CosignerKey } from "../../tlog/cosignature.ts";
import type { Anchor } from "./anchor.ts";

export const DEFAULT_WITNESS_TIMEOUT_MS = 10_000;
/** A witness answers a few lines; more is not a witness. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** 409s in a row for one checkpoint before giving up (each one teaches the size; two are the normal worst case). */
const MAX_CONFLICTS = 3;

export class WitnessAnchorError extends Error {}

export interface WitnessAnchorSpec {
  url: string;
  vkey: string;
}

/** "URL VKEY" (what follows `witness:` in the config), both required. */
export function parseWitnessAnchorSpec(spec: string): WitnessAnchorSpec {
  const parts = spec.trim().split(/\s+/);
  const [url, vkey] = parts;
  if (parts.length !== 2 || url === undefined || vkey === undefined) {
    throw new WitnessAnchorError(`witness anchor ${JSON.stringify(spec)} must be "witness:URL VKEY", e.g. "witness:http://127.0.0.1:7380 witness.example/w1+1a2b3c4d+BAB..." (the vkey from \`agent-receipts witness keys show\`)`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WitnessAnchorError(`witness anchor URL ${JSON.stringify(url)} is not a URL; give the witness's submission prefix, e.g. http://127.0.0.1:7380`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new WitnessAnchorError(`witness anchor URL ${url} must be http:// or https://`);
  try {
    parseCosignerKey(vkey);
  } catch (err) {
    throw new WitnessAnchorError(`witness anchor ${url}: ${(err as Error).message}`);
  }
  return { url, vkey };
}

/** Reads at most `limit` bytes of the body; a longer one is an error, not a memory problem. */
async function boundedText(res: Response, limit: number): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new WitnessAnchorError(`witness answered more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

export interface WitnessAnchorOptions {
  timeoutMs?: number;
}

export class WitnessAnchor implements Anchor {
  readonly name: string;
  private readonly endpoint: string;
  private readonly key: CosignerKey;
  private readonly timeoutMs: number;
  /** The size the witness has cosigned, as far as this process knows (learnt from 200 and 409 answers). */
  private acknowledged = 0;

  constructor(spec: WitnessAnchorSpec, options: WitnessAnchorOptions = {}) {
    this.name = `witness:${spec.url}`;
    this.endpoint = `${spec.url.replace(/\/+$/, "")}/add-checkpoint`;
    this.key = parseCosignerKey(spec.vkey);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_WITNESS_TIMEOUT_MS;
  }

  /** For the operator's log and the tests: what the witness has cosigned, as last heard. */
  get acknowledgedSize(): number {
    return this.acknowledged;
  }

  async publish(checkpoint: { note: string; size: number; root: Uint8Array }, proofs: { consistency(fromSize: number): Uint8Array[] }): Promise<{ cosignatures?: string[] }> {
    const text = checkpointTextOf(checkpoint.note);
    for (let conflicts = 0; ; ) {
      const old = this.acknowledged;
      if (old > checkpoint.size) {
        throw new WitnessAnchorError(
          `witness ${this.key.name} has cosigned size ${old} of this log, more than this checkpoint's ${checkpoint.size}: ` +
            "receipts were removed from the database, or another log uses the same origin",
        );
      }
      const proof = old === 0 || old === checkpoint.size ? [] : proofs.consistency(old);
      const body = `old ${old}\n${proof.map((h) => `${encodeBase64(h)}\n`).join("")}\n${checkpoint.note}`;
      let res: Response;
      try {
        res = await fetch(this.endpoint, { method: "POST", body, headers: { "content-type": "text/plain; charset=utf-8" }, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (err) {
        throw new WitnessAnchorError(`witness ${this.endpoint} unreachable: ${(err as Error).message}`);
      }
      const answer = await boundedText(res, MAX_RESPONSE_BYTES);
      if (res.status === 200) return { cosignatures: this.acceptCosignatures(text, answer, checkpoint.size) };
      if (res.status === 409) {
        const size = /^(0|[1-9][0-9]*)\n$/.test(answer) ? Number(answer.trim()) : NaN;
        if (!Number.isSafeInteger(size)) throw new WitnessAnchorError(`witness ${this.endpoint} answered 409 without a tree size (${JSON.stringify(firstLine(answer))})`);
        this.acknowledged = size;
        if (++conflicts >= MAX_CONFLICTS) throw new WitnessAnchorError(`witness ${this.endpoint} keeps answering 409 (its size changes under us: ${size}); is another log submitting with this origin?`);
        continue;
      }
      const what = res.status === 422 ? " (it has cosigned another history of this log: the log was rewritten or forked)" : res.status === 404 ? " (it does not know this log: add the daemon's vkey to its --log)" : res.status === 403 ? " (it does not trust this log's key)" : "";
      throw new WitnessAnchorError(`witness ${this.endpoint} answered ${res.status}${what}: ${firstLine(answer)}`);
    }
  }

  /** The witness's lines that verify with its vkey; others are ignored, as the protocol says. */
  private acceptCosignatures(text: string, answer: string, size: number): string[] {
    const lines = answer.split("\n").filter((l) => l !== "");
    const valid = lines.filter((l) => verifyCosignature(this.key, text, l) !== null).map((l) => `${l}\n`);
    if (valid.length === 0) {
      throw new WitnessAnchorError(`witness ${this.endpoint} answered 200 but no cosignature verifies with ${this.key.name}'s vkey (${lines.length} line(s)); check the vkey in the anchor`);
    }
    this.acknowledged = size;
    return valid;
  }
}
