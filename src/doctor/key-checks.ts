// The key pair: the signing key present, private (no group/other bits), owned
// by the daemon's user; the public key present and the same key as the
// signing key and as the running daemon's. The daemon refuses to start on
// each of these problems, so doctor finds them before a restart does.
import { existsSync, lstatSync } from "node:fs";
import { loadPublicKey, loadSigningKey } from "../keys/key-files.ts";
import { octal } from "../os/dirs.ts";
import { userName } from "../status/explain.ts";
import { fail, ok, warn, type CheckResult } from "./check.ts";
import type { DoctorContext } from "./context.ts";
import { joinFix, readability } from "./readable.ts";

interface SigningKeyVerdict {
  result: CheckResult;
  /** The signing key's fingerprint, when this user could read it. */
  fingerprint: string | null;
}

function signingKey(ctx: DoctorContext): SigningKeyVerdict {
  const path = ctx.key.path;
  const daemon = ctx.daemon;
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      if (daemon === null && !existsSync(ctx.db.path)) {
        return { result: warn("signing_key", `no signing key at ${path} yet`, "the daemon creates it at its first start"), fingerprint: null };
      }
      return {
        result: fail("signing_key", `signing key ${path} does not exist, but ${daemon !== null ? "the daemon runs with it" : `the database ${ctx.db.path} does`}: the daemon will refuse to start`,
          "restore the key from backup (docs/operations.md, Backup and restore), or move the database away to start a new identity"),
        fingerprint: null,
      };
    }
    const note = `cannot inspect signing key ${path} (${code}): it is the daemon user's`;
    if (daemon !== null) return { result: ok("signing_key", `${note}, and the running daemon loaded it`), fingerprint: null };
    return { result: warn("signing_key", note, `run doctor as the daemon's user to check it (e.g. sudo -u agentreceipts agent-receipts doctor)`), fingerprint: null };
  }
  if (st.isSymbolicLink()) return { result: fail("signing_key", `signing key ${path} is a symlink: the daemon refuses to follow it`, "point key (daemon.toml) at the real file"), fingerprint: null };
  if (!st.isFile()) return { result: fail("signing_key", `signing key ${path} is not a regular file`, "move it away and restore the key file"), fingerprint: null };
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    return {
      result: fail("signing_key", `signing key ${path} has mode ${octal(mode)}: readable by group or others, so the daemon will refuse to start`, `chmod 600 ${path}`),
      fingerprint: null,
    };
  }
  if (daemon !== null && daemon.uid !== 0 && st.uid !== daemon.uid) {
    return {
      result: fail("signing_key", `signing key ${path} belongs to ${userName(st.uid)}, but the daemon runs as ${userName(daemon.uid)}: it cannot read it at its next start`, `chown ${daemon.uid} ${path}`),
      fingerprint: null,
    };
  }
  try {
    const source = loadSigningKey(path);
    return { result: ok("signing_key", `${path}: mode ${octal(mode)}, owner ${userName(st.uid)}, ${source.fingerprint}`), fingerprint: source.fingerprint };
  } catch (err) {
    const message = (err as Error).message;
    // Not being allowed to read the daemon's key is how it should be.
    if (/permission denied|EACCES/i.test(message)) return { result: ok("signing_key", `${path}: mode ${octal(mode)}, owner ${userName(st.uid)} (not readable by this user, as it should be)`), fingerprint: null };
    return { result: fail("signing_key", message, "restore the key from backup"), fingerprint: null };
  }
}

function publicKey(ctx: DoctorContext, signing: string | null): CheckResult {
  const path = ctx.publicKey.path;
  // Like the database: readable by the daemon's group, not by agents; a warning for those not meant to read it.
  if (readability(path) === "denied") return warn("public_key", `this user may not read ${path}: the key is not compared`, joinFix(path));
  let fingerprint: string;
  try {
    fingerprint = loadPublicKey(path).fingerprint;
  } catch (err) {
    return fail("public_key", (err as Error).message, "the daemon publishes <key>.pub at every start; or pass --public-key PATH (agent-receipts keys show, where the daemon runs, prints it)");
  }
  if (signing !== null && signing !== fingerprint) {
    return fail("public_key", `public key ${path} (${fingerprint}) is not the signing key's (${signing}): the daemon will refuse to start`,
      `find out who replaced it, then move ${path} away (keep it to verify old receipts); the daemon publishes the right one at its next start`);
  }
  const daemon = ctx.daemon;
  if (daemon !== null && daemon.fingerprint !== fingerprint) {
    return fail("public_key", `public key ${path} (${fingerprint}) is not the running daemon's key (${daemon.fingerprint})`,
      `verify with the daemon's public key: --public-key ${daemon.public_key}`);
  }
  const matched = signing !== null ? "matches the signing key" : daemon !== null ? "matches the running daemon's key" : "not compared (no signing key or daemon to compare with)";
  return ok("public_key", `${path}: ${fingerprint}, ${matched}`);
}

export function keyChecks(ctx: DoctorContext): CheckResult[] {
  const signing = signingKey(ctx);
  return [signing.result, publicKey(ctx, signing.fingerprint)];
}
