// The logs a witness trusts: each --log vkey is a log's Ed25519 note key whose
// key name is the log's origin (the daemon signs its checkpoints that way).
// Several keys for one origin are allowed (a key rotation).
import { parseVerifierKey, type NoteVerifier } from "../tlog/note.ts";

export type TrustedLogs = ReadonlyMap<string, readonly NoteVerifier[]>;

export class LogKeyError extends Error {}

export function trustedLogs(vkeys: readonly string[]): TrustedLogs {
  const logs = new Map<string, NoteVerifier[]>();
  for (const vkey of vkeys) {
    let verifier: NoteVerifier;
    try {
      verifier = parseVerifierKey(vkey);
    } catch (err) {
      throw new LogKeyError(`--log ${JSON.stringify(vkey.length > 60 ? `${vkey.slice(0, 57)}...` : vkey)}: ${(err as Error).message}. Give the log's vkey (the daemon publishes it beside its public key).`);
    }
    const list = logs.get(verifier.name) ?? [];
    list.push(verifier);
    logs.set(verifier.name, list);
  }
  return logs;
}
