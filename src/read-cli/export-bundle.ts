// `export --with-key DIR`: one folder an auditor can verify offline — the
// receipts (receipts.jsonl), the public key (signing.key.pub) and a manifest
// (manifest.json) naming the chains, their sequence ranges, the receipt
// count, the SHA-256 of receipts.jsonl, the key's fingerprint and the command
// that verifies it all.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserFacingError } from "../errors.ts";
import type { ExportedChain } from "./export-stream.ts";
import type { BundleLog } from "../log-cli/export-proofs.ts";

export const BUNDLE_RECEIPTS = "receipts.jsonl";
export const BUNDLE_KEY = "signing.key.pub";
export const BUNDLE_MANIFEST = "manifest.json";

/** The manifest's shape: a stable interface, snake_case, fields only added. */
export interface ManifestJson {
  format: "agent-receipts-export/1";
  created_at: string;
  version: string;
  source: { db: string };
  /** The filters the export was made with, as given. */
  filters: Record<string, string>;
  receipts_file: string;
  receipts: number;
  bytes: number;
  sha256: string;
  chains: Array<{
    chain_id: string;
    first_sequence: number;
    last_sequence: number;
    receipts: number;
    /** Does not start at sequence 1: verify reports it as a segment whose first link is not anchored. */
    segment: boolean;
    ends_with_terminator: boolean;
  }>;
  public_key_file: string;
  key_fingerprint: string;
  verify: string;
  /** The transparency log's evidence in the folder (issue 12); absent when the database has no checkpoint yet. */
  log?: BundleLog;
}

/** Creates DIR (0750) for a bundle; an existing DIR must be an empty directory, so nothing is overwritten. */
export function prepareBundleDir(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UserFacingError(`--with-key ${dir} is a file; give a new or empty directory for the bundle.`);
    if (readdirSync(dir).length > 0) throw new UserFacingError(`--with-key ${dir} is not empty; give a new or empty directory, so that no earlier export is overwritten.`);
    return;
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw new UserFacingError(`cannot create the bundle directory ${dir}: ${(err as Error).message}`);
  }
}

export function manifestOf(
  p: { db: string; filters: Record<string, string>; receipts: number; bytes: number; sha256: string; chains: ExportedChain[]; fingerprint: string; version: string },
): ManifestJson {
  return {
    format: "agent-receipts-export/1",
    created_at: new Date().toISOString(),
    version: p.version,
    source: { db: p.db },
    filters: p.filters,
    receipts_file: BUNDLE_RECEIPTS,
    receipts: p.receipts,
    bytes: p.bytes,
    sha256: p.sha256,
    chains: p.chains.map((c) => ({
      chain_id: c.chainId, first_sequence: c.firstSequence, last_sequence: c.lastSequence, receipts: c.receipts,
      segment: c.firstSequence > 1, ends_with_terminator: c.endsWithTerminator,
    })),
    public_key_file: BUNDLE_KEY,
    key_fingerprint: p.fingerprint,
    verify: `agent-receipts verify --file ${BUNDLE_RECEIPTS} --public-key ${BUNDLE_KEY}`,
  };
}

export function writeBundleFiles(dir: string, publicKeyPem: string, manifest: ManifestJson): void {
  writeFileSync(join(dir, BUNDLE_KEY), publicKeyPem, { mode: 0o644 });
  writeFileSync(join(dir, BUNDLE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o640 });
}
