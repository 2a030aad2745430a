// RFC 6962 / RFC 9162 Merkle tree hashing and proof verification. The log's
// leaves are the 32 raw bytes of each receipt hash, in commit order.

export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

export function sha256(data: Uint8Array): Uint8Array {
  return Bun.SHA256.hash(data) as Uint8Array;
}

/** SHA-256(0x00 || entry) */
export function leafHash(entry: Uint8Array): Uint8Array {
  const buf = new Uint8Array(entry.length + 1);
  buf[0] = LEAF_PREFIX;
  buf.set(entry, 1);
  return sha256(buf);
}

const nodeBuf = new Uint8Array(1 + 2 * HASH_SIZE);
nodeBuf[0] = NODE_PREFIX;

/** SHA-256(0x01 || left || right) */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    const buf = new Uint8Array(1 + left.length + right.length);
    buf[0] = NODE_PREFIX;
    buf.set(left, 1);
    buf.set(right, 1 + left.length);
    return sha256(buf);
  }
  nodeBuf.set(left, 1);
  nodeBuf.set(right, 1 + HASH_SIZE);
  return sha256(nodeBuf);
}

export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The largest power of two strictly below n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function badHashes(proof: readonly Uint8Array[]): boolean {
  return proof.some((p) => p.length !== HASH_SIZE);
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or a reason it
 * cannot lead anywhere (index out of range, wrong proof length).
 */
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array | string {
  if (!isSize(index) || !isSize(size)) return "index and size must be whole numbers";
  if (index >= size) return `index ${index} is not below tree size ${size}`;
  if (leaf.length !== HASH_SIZE) return `leaf hash is ${leaf.length} bytes, not ${HASH_SIZE}`;
  if (badHashes(proof)) return `a proof hash is not ${HASH_SIZE} bytes`;
  // fn: the node's index at the current level; sn: the last node's index at that level.
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return `proof has ${proof.length} hashes, more than a tree of size ${size} needs`;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // Climb past levels where this node is a left child with no right sibling.
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return `proof has ${proof.length} hashes, fewer than a tree of size ${size} needs`;
  return r;
}

/** Why the inclusion proof fails, or null when it verifies. */
export function inclusionProblem(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): string | null {
  const got = rootFromInclusionProof(index, size, leaf, proof);
  if (typeof got === "string") return got;
  return equalHashes(got, root) ? null : "the proof leads to a different root";
}

export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: Uint8Array[], root: Uint8Array): boolean {
  return inclusionProblem(index, size, leaf, proof, root) === null;
}

/** Why the consistency proof fails (RFC 9162 §2.1.4.2), or null when it verifies. */
export function consistencyProblem(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): string | null {
  if (!isSize(size1) || !isSize(size2)) return "sizes must be whole numbers";
  if (size2 < size1) return `size ${size2} is smaller than size ${size1}`;
  if (size1 === size2) {
    if (proof.length > 0) return "equal sizes need an empty proof";
    if (size1 === 0 && !equalHashes(root1, EMPTY_ROOT)) return "the root of an empty tree is SHA-256 of nothing";
    return equalHashes(root1, root2) ? null : `the roots differ at size ${size1}`;
  }
  if (size1 === 0) return "a consistency proof from the empty tree proves nothing";
  if (proof.length === 0) return "the proof is empty";
  if (badHashes(proof) || root1.length !== HASH_SIZE || root2.length !== HASH_SIZE) return `every hash must be ${HASH_SIZE} bytes`;
  // A power-of-two size1 is a full subtree of the new tree: its root starts the path.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return "the proof is longer than these sizes need";
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return "the proof is shorter than these sizes need";
  if (!equalHashes(fr, root1)) return `the proof does not lead to the root at size ${size1}`;
  if (!equalHashes(sr, root2)) return `the proof does not lead to the root at size ${size2}`;
  return null;
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

export function verifyConsistency(size1: number, size2: number, proof: Uint8Array[], root1: Uint8Array, root2: Uint8Array): boolean {
  return consistencyProblem(size1, size2, proof, root1, root2) === null;
}

/** The root of a list of leaf hashes, by the RFC 6962 definition (for tests and small trees). */
export function rootOfLeaves(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  const k = splitPoint(leaves.length);
  return nodeHash(rootOfLeaves(leaves.slice(0, k)), rootOfLeaves(leaves.slice(k)));
}
