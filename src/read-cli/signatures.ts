// `list --verify` and `tail --verify` (after journalctl --verify): the
// signature of every receipt shown, checked under the public key — the one
// --public-key names (which implies --verify), else the default resolution
// `show` uses. Without either flag no key is read at all. A key that cannot
// be loaded is a usage error raised before anything is printed; a receipt
// that fails is marked BAD in the table, or named on stderr beside the JSON
// output (which stays the stored text, unchanged), and the command exits 1.
import type { KeyObject } from "node:crypto";
import { printError } from "../cli/output.ts";
import { UserFacingError } from "../errors.ts";
import { KeyFileError, loadPublicKey } from "../keys/key-files.ts";
import type { StoredReceipt } from "../query/record.ts";
import { checkReceipt } from "../verify/check-receipt.ts";
import { publicKeyArg } from "./args.ts";
import type { ReaderFiles } from "./paths.ts";

export const verifyArgs = {
  ...publicKeyArg,
  verify: { type: "boolean", description: "Check the signature of every receipt shown under the public key (implied by --public-key); exit 1 when one fails" },
} as const;

export interface VerifyFlags {
  verify?: boolean;
  "public-key"?: string;
}

function keyError(err: KeyFileError): UserFacingError {
  const message = err.message.replace(/\.$/, "");
  // Messages that already say what to do keep their own fix.
  if (/Pass --public-key|Point the configuration/.test(message)) return new UserFacingError(`cannot check signatures: ${message}.`);
  return new UserFacingError(
    `cannot check signatures: ${message}. Pass --public-key PATH with the daemon's public key (agent-receipts keys show prints it), or leave out --verify.`,
  );
}

/** The checker for `--verify`/`--public-key`, or undefined when neither is given (then no key is read). */
export function signatureChecks(flags: VerifyFlags, files: ReaderFiles): SignatureChecks | undefined {
  if (flags.verify !== true && flags["public-key"] === undefined) return undefined;
  let key: ReturnType<typeof loadPublicKey>;
  try {
    key = loadPublicKey(files.publicKey);
  } catch (err) {
    if (err instanceof KeyFileError) throw keyError(err);
    throw err;
  }
  return new SignatureChecks(key.publicKey, key.fingerprint, files.publicKey);
}

export class SignatureChecks {
  /** How many receipts shown so far failed their check. */
  failed = 0;

  constructor(private readonly key: KeyObject, private readonly fingerprint: string, private readonly path: string) {}

  /** Checks each receipt, counting the failures: null when its signature verifies, else why not. */
  check(receipts: readonly StoredReceipt[]): Array<string | null> {
    return receipts.map((r) => {
      const c = checkReceipt(r.json, this.key);
      if (c.problem === undefined) return null;
      this.failed++;
      return c.problem === "bad_signature"
        ? `does not verify under key ${this.fingerprint} (${this.path})`
        : `${c.problem === "malformed_proof" ? "malformed proof" : "malformed receipt"}: ${c.detail ?? ""}`;
    });
  }

  /** One line on stderr per receipt that failed: chain, sequence, id and why. */
  report(receipts: readonly StoredReceipt[], problems: ReadonlyArray<string | null>): void {
    receipts.forEach((r, i) => {
      const why = problems[i];
      if (why !== null && why !== undefined) printError(`agent-receipts: BAD signature: chain ${r.chainId}, sequence ${r.sequence}, ${r.id}: ${why}`);
    });
  }
}
