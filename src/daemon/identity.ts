// The daemon's signing identity at start: create it on a fresh install, refuse
// to start a new identity silently when receipts already exist, load it under
// the file rules, and publish the public key.
import { existsSync } from "node:fs";
import { createKeyPair, KeyFileError, loadSigningKey, publishPublicKey } from "../keys/key-files.ts";
import type { KeySource } from "../receipt/key-source.ts";
import { pathPresent } from "../os/files.ts";

export interface Identity {
  key: KeySource;
  created: boolean;
  published: boolean;
}

/** Runs in the writer thread, the key's only owner; the caller logs what happened. */
export function establishIdentity(keyPath: string, publicKeyPath: string, dbPath: string): Identity {
  const created = !pathPresent(keyPath);
  if (created) {
    if (existsSync(dbPath)) {
      throw new KeyFileError(
        `signing key ${keyPath} is missing but database ${dbPath} already holds receipts. Refusing to start a new identity silently: ` +
          "restore the key file, or point --key at it. To really start over, move the database away first.",
      );
    }
    createKeyPair(keyPath, publicKeyPath);
  }
  const key = loadSigningKey(keyPath);
  return { key, created, published: publishPublicKey(key, publicKeyPath) === "written" };
}
