// Builds real chains in real SQLite files with the project's own chain writer.
import { mkdtempSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChainWriter, type ChainEvent, type ChainWriterOptions } from "../../src/daemon/pipeline/chain-writer.ts";
import { generateKeyPair, parsePrivateKey } from "../../src/receipt/keys.ts";
import { keySourceOf } from "../../src/receipt/key-source.ts";
import type { Frame } from "../../src/protocol/frame-schema.ts";
import type { AttestedPeer } from "../../src/daemon/pipeline/builder.ts";
import { StoreWriter } from "../../src/store/writer.ts";

export const ROOT = join(import.meta.dir, "..", "..");
/** The repository's own copies of the upstream test vectors (tests/fixtures/vectors/README.md). */
export const VECTORS = join(ROOT, "tests", "fixtures", "vectors");
/** The reference shelf beside a development checkout; absent in a plain clone. */
export const SHARED_VECTORS = join(ROOT, "..", "shared", "vectors");
/** The compiled binary under test; AR_TEST_BINARY lets a developer test a build kept elsewhere. */
export const BINARY = process.env.AR_TEST_BINARY ?? join(ROOT, "dist", "agent-receipts");

export function tempDir(prefix = "ar-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface KeyFiles {
  dir: string;
  key: string;
  publicKey: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

export function writeKeyFiles(dir: string, name = "signing.key"): KeyFiles {
  const pair = generateKeyPair();
  const key = join(dir, name);
  const publicKey = `${key}.pub`;
  writeFileSync(key, pair.privateKeyPem, { mode: 0o600 });
  chmodSync(key, 0o600);
  writeFileSync(publicKey, pair.publicKeyPem, { mode: 0o644 });
  return { dir, key, publicKey, ...pair };
}

export const TEST_PEER: AttestedPeer = { credential: { platform: "linux", pid: 4242, uid: 1000, gid: 1000, exe_path: "/usr/bin/test-agent" }, login: "tester" };

export function frame(i: number, extra: Partial<Frame> = {}): Frame {
  return {
    v: "1",
    ts_emit: new Date().toISOString(),
    session_id: "sess-test",
    channel: "sdk",
    tool: { name: "read_file" },
    decision: "allowed",
    input: { path: `/tmp/file-${i}.txt`, n: i },
    output: { ok: true },
    ...extra,
  };
}

/** The daemon's own chain writer on a real SQLite file, with the daemon's default issuer. */
export function openChainWriter(
  dbPath: string, privateKeyPem: string, chainIdBase: string,
  extra: Pick<Partial<ChainWriterOptions>, "verificationMethod" | "clock"> = {},
): { store: StoreWriter; writer: ChainWriter } {
  const store = new StoreWriter(dbPath);
  const writer = new ChainWriter({
    store, signer: keySourceOf(parsePrivateKey(privateKeyPem)), issuerId: "did:agent-receipts-daemon:local",
    verificationMethod: "did:agent-receipts-daemon:local#k1", chainIdBase, ...extra,
  });
  return { store, writer };
}

/** Writes `count` event receipts (in batches) and optionally a terminator; returns the chain id. */
export function makeChainDb(
  dbPath: string, privateKeyPem: string, count: number,
  options: {
    chainId?: string; terminate?: boolean; batch?: number; frames?: (i: number) => Frame; verificationMethod?: string;
    /** The sender of event i (default TEST_PEER). */
    peers?: (i: number) => AttestedPeer;
    /** The writer's clock (default the real one), e.g. to spread receipts over days. */
    clock?: () => Date;
  } = {},
): string {
  const { store, writer } = openChainWriter(dbPath, privateKeyPem, options.chainId ?? "test-chain", {
    ...(options.verificationMethod === undefined ? {} : { verificationMethod: options.verificationMethod }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const batch = options.batch ?? 500;
  let pending: ChainEvent[] = [];
  for (let i = 0; i < count; i++) {
    pending.push({ no: i, frame: options.frames?.(i) ?? frame(i), peer: options.peers?.(i) ?? TEST_PEER });
    if (pending.length === batch) {
      writer.commit(pending);
      pending = [];
    }
  }
  if (pending.length > 0) writer.commit(pending);
  if (options.terminate) writer.terminate();
  store.close();
  return writer.rootChainId;
}
