// A log for witness tests: leaves held in memory, roots and consistency proofs
// computed by the RFC 6962 §2.1 definitions written out here (independent of
// the project's tree code), checkpoints signed with a real Ed25519 note key.
import { createHash } from "node:crypto";
import { generateKeyPair, parsePrivateKey, parsePublicKey, rawPublicKey, signBytes } from "../../src/receipt/keys.ts";
import { ed25519NoteSigner, ed25519VerifierKey, signNote, type NoteSigner } from "../../src/tlog/note.ts";

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

const leafHash = (entry: Uint8Array) => sha256(new Uint8Array([0]), entry);
const nodeHash = (l: Uint8Array, r: Uint8Array) => sha256(new Uint8Array([1]), l, r);

/** The largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) over leaf hashes. */
export function mth(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2. */
function subproof(m: number, leaves: readonly Uint8Array[], complete: boolean): Uint8Array[] {
  const n = leaves.length;
  if (m === n) return complete ? [] : [mth(leaves)];
  const k = split(n);
  if (m <= k) return [...subproof(m, leaves.slice(0, k), complete), mth(leaves.slice(k))];
  return [...subproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))];
}

export interface LogKey {
  signer: NoteSigner;
  vkey: string;
}

export function newLogKey(origin: string): LogKey {
  const pair = generateKeyPair();
  const priv = parsePrivateKey(pair.privateKeyPem);
  const raw = rawPublicKey(parsePublicKey(pair.publicKeyPem));
  return { signer: ed25519NoteSigner(origin, (m) => signBytes(priv, m), raw), vkey: ed25519VerifierKey(origin, raw) };
}

export class TestLog {
  readonly leaves: Uint8Array[] = [];
  readonly vkey: string;

  constructor(readonly origin: string, private readonly entryPrefix = "entry", private readonly key: LogKey = newLogKey(origin)) {
    this.vkey = key.vkey;
  }

  /** The same origin and key, the same first `from` entries, other entries after them (a rewritten log). */
  fork(entryPrefix: string, from = 0): TestLog {
    const fork = new TestLog(this.origin, entryPrefix, this.key);
    fork.leaves.push(...this.leaves.slice(0, from));
    return fork;
  }

  /** Signs any note text with the log's key (to build checkpoints a log should never sign). */
  sign(text: string): string {
    return signNote(text, [this.key.signer]);
  }

  /** Appends leaves up to `size` (entries derived from the prefix, so two logs with different prefixes fork). */
  grow(size: number): this {
    while (this.leaves.length < size) this.leaves.push(leafHash(new TextEncoder().encode(`${this.entryPrefix} ${this.leaves.length}`)));
    return this;
  }

  root(size = this.leaves.length): Uint8Array {
    return mth(this.leaves.slice(0, size));
  }

  text(size = this.leaves.length): string {
    return `${this.origin}\n${size}\n${Buffer.from(this.root(size)).toString("base64")}\n`;
  }

  /** The signed checkpoint note at `size`. */
  checkpoint(size = this.leaves.length): string {
    return this.sign(this.text(size));
  }

  consistency(oldSize: number, size = this.leaves.length): Uint8Array[] {
    return oldSize === 0 || oldSize === size ? [] : subproof(oldSize, this.leaves.slice(0, size), true);
  }

  /** An add-checkpoint request body. */
  request(oldSize: number, size = this.leaves.length, proof = this.consistency(oldSize, size), note = this.checkpoint(size)): string {
    return `old ${oldSize}\n${proof.map((h) => `${Buffer.from(h).toString("base64")}\n`).join("")}\n${note}`;
  }
}
