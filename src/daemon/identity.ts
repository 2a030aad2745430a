// The daemon's signing identity at start: create it on a fresh install, refuse
// to start a new identity silently when receipts already exist, load it under
// the file rules, and publish the public key.
import { existsSync, lstatSync } from "node:fs";
import { createKeyPair, KeyFileError, loadSigningKey, publishPublicKey, type SigningKey } from "../keys/key-files.ts";
import type { Logger } from "./log.ts";

function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export function establishIdentity(keyPath: string, publicKeyPath: string, dbPath: string, log: Logger): SigningKey {
  if (!present(keyPath)) {
    if (existsSync(dbPath)) {
      throw new KeyFileError(
        `signing key ${keyPath} is missing but database ${dbPath} already holds receipts. Refusing to start a new identity silently: ` +
          "restore the key file, or point --key at it. To really start over, move the database away first.",
      );
    }
    const created = createKeyPair(keyPath, publicKeyPath);
    log.info("key_created", { key: keyPath, public_key: publicKeyPath, fingerprint: created.fingerprint });
  }
  const key = loadSigningKey(keyPath);
  const published = publishPublicKey(key, publicKeyPath);
  if (published === "written") log.info("public_key_published", { public_key: publicKeyPath, fingerprint: key.fingerprint });
  return key;
}
