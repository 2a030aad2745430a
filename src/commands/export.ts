import { defineCommand } from "citty";
import { closeSync, openSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { cliCommand } from "../cli/command.ts";
import { UserFacingError } from "../errors.ts";
import { loadPublicKey } from "../keys/key-files.ts";
import { selectiveFilterNames } from "../query/filter.ts";
import { ReceiptReader, type ChainSlice } from "../query/reader.ts";
import { filterArgs, filterOf, pathArgs, publicKeyArg, type FilterFlags } from "../read-cli/args.ts";
import { checkChainFilter } from "../read-cli/chain-check.ts";
import { BUNDLE_RECEIPTS, manifestOf, prepareBundleDir, writeBundleFiles } from "../read-cli/export-bundle.ts";
import { streamExport } from "../read-cli/export-stream.ts";
import { Output, untilOutputCloses } from "../read-cli/output.ts";
import { readerFiles } from "../read-cli/paths.ts";
import { checkReceipt } from "../verify/check-receipt.ts";
import { VERSION } from "../version.ts";
import { writeBundleLog } from "../log-cli/export-proofs.ts";

/** Writing the export over the database it reads would destroy the record. */
function refuseDatabaseTarget(target: string, db: string): void {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const t = real(target);
  if ([db, `${db}-wal`, `${db}-shm`].some((f) => real(f) === t)) {
    throw new UserFacingError(`--out ${target} is the database being exported; write the export to another file.`);
  }
}

function openTarget(path: string): number {
  try {
    return openSync(path, "w", 0o640);
  } catch (err) {
    throw new UserFacingError(`cannot write ${path}: ${(err as Error).message}`);
  }
}

/** A bundle whose key does not verify its receipts is useless to an auditor: refuse before writing it. */
function checkKeyFits(reader: ReceiptReader, plan: readonly ChainSlice[], key: ReturnType<typeof loadPublicKey>, keyPath: string): void {
  const first = plan[0];
  const r = first === undefined ? null : reader.at(first.chain.chainId, first.from);
  if (r === null || checkReceipt(r.json, key.publicKey).problem === undefined) return;
  throw new UserFacingError(
    `the public key ${keyPath} (${key.fingerprint}) does not verify receipt ${r.id} (chain ${r.chainId}, sequence ${r.sequence}): ` +
      "pass --public-key with the key that signed the receipts (agent-receipts keys show prints it), or run agent-receipts verify if the receipt may have been altered.",
  );
}

function givenFilters(args: FilterFlags): Record<string, string> {
  return Object.fromEntries(Object.entries(args).filter(([k, v]) => typeof v === "string" && k in filterArgs)) as Record<string, string>;
}

/** A progress line on stderr when it is a terminal, rewritten in place. */
function progressLine(total: number): ((n: number) => void) | undefined {
  if (process.stderr.isTTY !== true) return undefined;
  const start = performance.now();
  return (n) => {
    const rate = n / Math.max((performance.now() - start) / 1000, 0.001);
    process.stderr.write(`\rexporting: ${n.toLocaleString("en-US")} of about ${total.toLocaleString("en-US")} receipts (${Math.round(rate).toLocaleString("en-US")}/s)\x1b[K`);
  };
}

export const exportCommand = cliCommand(defineCommand({
  meta: {
    name: "export",
    description:
      "Write receipts as JSON Lines, stored text unchanged, chain after chain in sequence order, in constant memory. " +
      "Whole chains verify with verify --file as they are; a --since/--until window exports each chain's contiguous run, " +
      "which verifies as a segment. Read-only.",
  },
  args: {
    ...pathArgs,
    ...publicKeyArg,
    ...filterArgs,
    out: { type: "string", description: "Write to this file (mode 0640) instead of stdout", valueHint: "FILE" },
    "with-key": {
      type: "string",
      description: `Write a folder to hand to an auditor: ${BUNDLE_RECEIPTS}, the public key and manifest.json (chains, ranges, count, SHA-256, key fingerprint)`,
      valueHint: "DIR",
    },
  },
  async run({ args }) {
    const filter = filterOf(args, new Date());
    const bundle = args["with-key"];
    if (bundle !== undefined && args.out !== undefined) throw new UserFacingError(`--with-key writes ${BUNDLE_RECEIPTS} into its folder; leave out --out.`);
    const files = readerFiles(args);
    const key = bundle === undefined ? undefined : loadPublicKey(files.publicKey);
    const target = bundle !== undefined ? join(bundle, BUNDLE_RECEIPTS) : args.out;
    if (target !== undefined) refuseDatabaseTarget(target, files.db);
    const selective = selectiveFilterNames(filter);
    await untilOutputCloses(() => {
      const reader = new ReceiptReader(files.db);
      let fd: number | undefined;
      try {
        checkChainFilter(reader, filter, files.db);
        const plan = reader.exportPlan(filter);
        if (key !== undefined) checkKeyFits(reader, plan, key, files.publicKey);
        if (bundle !== undefined) prepareBundleDir(bundle);
        fd = target === undefined ? 1 : openTarget(target);
        // Only a bundle's manifest needs the hash of what was written.
        const hash = bundle === undefined ? undefined : new Bun.CryptoHasher("sha256");
        let bytes = 0;
        const out = new Output(fd, hash === undefined ? undefined : (b) => {
          hash.update(b);
          bytes += b.length;
        });
        const progress = target === undefined ? undefined : progressLine(plan.reduce((n, s) => n + s.to - s.from + 1, 0));
        const result = streamExport(reader, plan, filter, out, progress);
        if (progress !== undefined) process.stderr.write("\r\x1b[K");
        if (bundle !== undefined && key !== undefined && hash !== undefined) {
          const manifest = manifestOf({
            db: resolve(files.db), filters: givenFilters(args), receipts: result.receipts, bytes, sha256: hash.digest("hex"),
            chains: result.chains, fingerprint: key.fingerprint, version: VERSION,
          });
          // The log's checkpoint and an inclusion proof per receipt make the folder self-verifying.
          const log = writeBundleLog(bundle, reader, plan, filter, key.publicKey);
          if (log !== null) {
            manifest.log = log;
            manifest.verify += ` --proofs ${log.proofs_file} --checkpoint ${log.checkpoint_file}`;
          }
          writeBundleFiles(bundle, key.pem, manifest);
        }
        if (target !== undefined) {
          process.stderr.write(`exported ${result.receipts} receipts of ${result.chains.length} chain(s) to ${target}\n`);
        }
        if (selective.length > 0) {
          process.stderr.write(`note: ${selective.join(", ")} pick receipts out of their chains: verify --file reports the gaps between them as breaks.\n`);
        }
      } finally {
        if (fd !== undefined && fd !== 1) closeSync(fd);
        reader.close();
      }
    });
  },
}), {
  footer:
    "Examples: agent-receipts export --out all.jsonl; agent-receipts export --since 2026-11-28 --until 2026-11-29 --with-key audit/; " +
    "agent-receipts export --chain 2026-11-28 | your-siem-shipper. Then: agent-receipts verify --file all.jsonl --public-key signing.key.pub. " +
    "Exit 0 written, 2 usage, unreadable database or unwritable target.",
});
