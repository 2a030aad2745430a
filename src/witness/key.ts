// The witness's own key: an Ed25519 private key (PKCS#8 PEM, 0600) and, beside
// it, its cosignature/v1 verifier key (`<key>.vkey`, 0644), which carries the
// witness's name. Logs and verifiers are configured with that vkey line.
import { hostname } from "node:os";
import { readFileSync } from "node:fs";
import { createExclusive, KeyFileError, loadSigningKey } from "../keys/key-files.ts";
import { checkRegularOrAbsent } from "../os/files.ts";
import { generateKeyPair, parsePublicKey, rawPublicKey } from "../receipt/keys.ts";
import { cosignatureSigner, cosignatureVerifierKey, parseCosignerKey, type CosignatureSigner } from "../tlog/cosignature.ts";
import { isValidKeyName } from "../tlog/note.ts";

export function witnessVkeyPath(keyPath: string): string {
  return `${keyPath}.vkey`;
}

/** `<host name>/witness`: a name is only for telling keys apart, it need not resolve. */
export function defaultWitnessName(): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, "-") || "localhost";
  return `${host}/witness`;
}

export function checkWitnessName(name: string): void {
  if (!isValidKeyName(name)) throw new KeyFileError(`witness name ${JSON.stringify(name)} is not a valid key name: it must be non-empty, without spaces or "+", e.g. witness.example.com/w1`);
}

function refuseExisting(path: string, what: string): void {
  let exists: boolean;
  try {
    exists = checkRegularOrAbsent(path, what);
  } catch (err) {
    throw new KeyFileError((err as Error).message);
  }
  if (exists) throw new KeyFileError(`${what} ${path} already exists; refusing to overwrite it`);
}

/** `witness keys init`: a new key (0600) and its vkey (0644); never overwrites either. */
export function createWitnessKey(keyPath: string, vkeyPath: string, name: string): string {
  checkWitnessName(name);
  refuseExisting(keyPath, "witness key");
  refuseExisting(vkeyPath, "witness vkey");
  const pair = generateKeyPair();
  const vkey = cosignatureVerifierKey(name, rawPublicKey(parsePublicKey(pair.publicKeyPem)));
  createExclusive(keyPath, pair.privateKeyPem, 0o600, "witness key");
  createExclusive(vkeyPath, `${vkey}\n`, 0o644, "witness vkey");
  return vkey;
}

/** The vkey file's one line, checked to be a cosignature/v1 key. */
export function readWitnessVkey(vkeyPath: string): string {
  let text: string;
  try {
    checkRegularOrAbsent(vkeyPath, "witness vkey");
    text = readFileSync(vkeyPath, "utf8").trim();
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new KeyFileError(missing ? `witness vkey ${vkeyPath} does not exist. Create the key with \`agent-receipts witness keys init --key KEY\`, or pass --vkey PATH.` : (err as Error).message);
  }
  try {
    parseCosignerKey(text);
  } catch (err) {
    throw new KeyFileError(`witness vkey ${vkeyPath}: ${(err as Error).message}`);
  }
  return text;
}

export interface WitnessKey {
  signer: CosignatureSigner;
  vkey: string;
}

/** Loads the private key (0600 rules of the daemon's key) and checks that the vkey is its public half. */
export function loadWitnessKey(keyPath: string, vkeyPath: string): WitnessKey {
  const source = loadSigningKey(keyPath);
  const vkey = readWitnessVkey(vkeyPath);
  const published = parseCosignerKey(vkey);
  const raw = rawPublicKey(source.publicKey);
  if (!Buffer.from(raw).equals(Buffer.from(published.publicKey))) {
    throw new KeyFileError(`witness vkey ${vkeyPath} is not the public half of ${keyPath}. Point --vkey at the key's own vkey file (created by \`witness keys init\`).`);
  }
  return { signer: cosignatureSigner(published.name, (m) => source.sign(m), raw), vkey };
}
