// The backup use case: snapshot the database (safe while the daemon writes),
// verify the copy with the public key, and only then put it at --out.
import { EXIT_FAILURE } from "../errors.ts";
import { BackupError, checkDestination, discardCopy, publishCopy, snapshotDatabase, stagingPathFor } from "../store/backup.ts";
import { keyMismatchMessage, type VerifyReport } from "../verify/report.ts";
import { runVerify } from "../verify/run.ts";

export interface BackupRequest {
  db: string;
  out: string;
  publicKeyPath: string;
}

export interface BackupReport {
  source: string;
  out: string;
  chains: number;
  receipts: number;
  /** The copy's verification, for the caller to show. */
  verify: VerifyReport;
}

function brokenChains(report: VerifyReport): string {
  const broken = report.chains.filter((c) => !c.valid).map((c) => c.chainId);
  return `${broken.slice(0, 5).join(", ")}${broken.length > 5 ? ", ..." : ""}`;
}

/**
 * Succeeds only with a copy at `out` that verifies. A copy that does not,
 * of a source that does not either, is still put in place (it is the
 * evidence as it stands) and reported as a failure (exit 1).
 */
export async function runBackup(req: BackupRequest): Promise<BackupReport> {
  checkDestination(req.out);
  const staging = stagingPathFor(req.out);
  let published = false;
  try {
    snapshotDatabase(req.db, staging);
    const report = await runVerify({ publicKeyPath: req.publicKeyPath, db: staging });
    const wrongKey = keyMismatchMessage(report);
    if (wrongKey !== null) throw new BackupError(`nothing written: ${wrongKey}`);
    if (!report.valid) {
      const source = await runVerify({ publicKeyPath: req.publicKeyPath, db: req.db });
      if (source.valid) {
        throw new BackupError(`the copy does not verify although ${req.db} does; nothing written. Check the disk of ${req.out} and try again.`);
      }
      publishCopy(staging, req.out);
      published = true;
      throw new BackupError(
        `${req.out} written, but it does not verify, because ${req.db} itself does not (broken: ${brokenChains(source)}). ` +
          `Keep both, and run agent-receipts verify --db ${req.db} to see where.`,
        EXIT_FAILURE,
      );
    }
    publishCopy(staging, req.out);
    published = true;
    return {
      source: req.db, out: req.out, chains: report.chains.length, receipts: report.chains.reduce((n, c) => n + c.count, 0), verify: report,
    };
  } finally {
    if (!published) discardCopy(staging);
  }
}
