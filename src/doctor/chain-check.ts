// Does the record verify under the public key? Quick: the newest 1,000
// receipts (chain-window.ts), in the doctor's own process. --full: every
// chain, with the verifier itself (src/verify/run.ts).
import { existsSync } from "node:fs";
import { loadPublicKey } from "../keys/key-files.ts";
import { ReadOnlyDatabase } from "../store/open-readonly.ts";
import { keyMismatchMessage } from "../verify/report.ts";
import { runVerify } from "../verify/run.ts";
import { breakText, checkNewest } from "./chain-window.ts";
import { fail, ok, warn, type CheckResult } from "./check.ts";
import type { DoctorContext } from "./context.ts";

export const QUICK_RECEIPTS = 1000;

const TAMPER_FIX = (chain: string) =>
  `run "agent-receipts verify --chain ${chain}" for the details; keep the database as evidence (copy it) and find out who changed it`;

async function full(ctx: DoctorContext): Promise<CheckResult> {
  const report = await runVerify({ publicKeyPath: ctx.publicKey.path, db: ctx.db.path });
  const wrongKey = keyMismatchMessage(report);
  if (wrongKey !== null) return fail("chain", wrongKey, "pass --public-key with the key that signed them");
  const receipts = report.chains.reduce((n, c) => n + c.count, 0);
  const broken = report.chains.find((c) => !c.valid);
  if (broken !== undefined) return fail("chain", `chain ${broken.chainId} is broken: ${broken.break === undefined ? "" : breakText(broken.break)}`, TAMPER_FIX(broken.chainId));
  if (report.chains.length === 0) return ok("chain", "no receipts yet: nothing to verify");
  return ok("chain", `all ${report.chains.length} ${report.chains.length === 1 ? "chain" : "chains"} (${receipts} receipts) verify under ${report.publicKey.fingerprint}`);
}

function quick(ctx: DoctorContext): CheckResult {
  const key = loadPublicKey(ctx.publicKey.path);
  const reader = new ReadOnlyDatabase(ctx.db.path);
  try {
    const results = checkNewest(reader, key.publicKey, QUICK_RECEIPTS);
    const count = results.reduce((n, r) => n + r.count, 0);
    if (count === 0) return ok("chain", "no receipts yet: nothing to verify");
    if (results.every((r) => r.verified === 0)) {
      return fail("chain", `none of the newest ${count} receipts verifies under the public key ${ctx.publicKey.path} (${key.fingerprint}): most likely the wrong key`,
        "pass --public-key with the key that signed them (agent-receipts keys show, where the daemon runs, prints it)");
    }
    const broken = results.find((r) => r.break !== null);
    if (broken !== undefined) return fail("chain", `chain ${broken.chainId} is broken: ${breakText(broken.break!)}`, TAMPER_FIX(broken.chainId));
    const chains = results.map((r) => `${r.chainId} ${r.firstSequence}-${r.firstSequence + r.count - 1}`).join(", ");
    return ok("chain", `the newest ${count} receipts verify (${chains}); "doctor --full" or "agent-receipts verify" checks every receipt`);
  } finally {
    reader.close();
  }
}

export async function chainCheck(ctx: DoctorContext, everything: boolean): Promise<CheckResult> {
  if (!existsSync(ctx.db.path)) return warn("chain", `no database at ${ctx.db.path}: nothing to verify`);
  try {
    return everything ? await full(ctx) : quick(ctx);
  } catch (err) {
    // The database and key lines already say why (and how to fix it).
    return warn("chain", `not checked: ${(err as Error).message}`);
  }
}
