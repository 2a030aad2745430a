// Key files exactly as docs/protocol.md §9 requires: the signing key is read without
// following symlinks, must be a small regular file with no group/other bits,
// and is never overwritten; the public key is published beside it.
import type { KeyObject } from "node:crypto";
import { closeSync, constants, fchmodSync, fstatSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { keySourceOf, type KeySource } from "../receipt/key-source.ts";
import { fingerprint, generateKeyPair, parsePrivateKey, parsePublicKey, publicKeyPem, KeyFormatError } from "../receipt/keys.ts";
import { checkRegularOrAbsent, ensureParentDir, UnsafeFileError } from "../os/files.ts";
import { UserFacingError } from "../errors.ts";

export const KEY_FILE_MAX_BYTES = 16 * 1024;

/** A key file problem; the message names the path and the fix. */
export class KeyFileError extends UserFacingError {}


function readNoFollow(path: string, what: string): { text: string; mode: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new KeyFileError(`${what} ${path} does not exist`);
    if (code === "ELOOP") throw new KeyFileError(`${what} ${path} is a symlink; refusing to follow it. Point the configuration at the real file.`);
    throw new KeyFileError(`cannot open ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeyFileError(`${what} ${path} is not a regular file`);
    if (st.size > KEY_FILE_MAX_BYTES) throw new KeyFileError(`${what} ${path} is ${st.size} bytes; a key file is at most ${KEY_FILE_MAX_BYTES} bytes`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return { text: buf.subarray(0, off).toString("utf8"), mode: st.mode & 0o777 };
  } finally {
    closeSync(fd);
  }
}

/** Loads the signing key under the rules of docs/protocol.md §9. */
export function loadSigningKey(path: string): KeySource {
  const { text, mode } = readNoFollow(path, "signing key");
  if ((mode & 0o077) !== 0) {
    throw new KeyFileError(`signing key ${path} has mode ${mode.toString(8).padStart(4, "0")}; it must not be readable by group or others. Fix: chmod 600 ${path}`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = parsePrivateKey(text);
  } catch (err) {
    throw new KeyFileError(`signing key ${path}: ${(err as Error).message}`);
  }
  return keySourceOf(privateKey);
}

/** Loads a public key (SPKI PEM) for verification. */
export function loadPublicKey(path: string): { publicKey: KeyObject; pem: string; fingerprint: string } {
  let text: string;
  try {
    text = readNoFollow(path, "public key").text;
  } catch (err) {
    if (err instanceof KeyFileError && /does not exist/.test(err.message)) {
      throw new KeyFileError(`${err.message}. Pass --public-key PATH (the daemon publishes it as signing.key.pub in its data dir).`);
    }
    throw err;
  }
  try {
    const publicKey = parsePublicKey(text);
    return { publicKey, pem: publicKeyPem(publicKey), fingerprint: fingerprint(publicKey) };
  } catch (err) {
    if (err instanceof KeyFormatError) throw new KeyFileError(`public key ${path} is not an Ed25519 SPKI PEM: ${err.message}`);
    throw err;
  }
}

/** Creates a file that must not exist yet (never overwrites, never follows a symlink). */
export function createExclusive(path: string, content: string, mode: number, what: string): void {
  ensureParentDir(path);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new KeyFileError(`${what} ${path} already exists; refusing to overwrite it`);
    throw new KeyFileError(`cannot create ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    fchmodSync(fd, mode); // the umask must not change the mode docs/protocol.md §9 asks for
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

/** `keys init`: a new key pair, private 0600 and public 0644; never overwrites. */
export function createKeyPair(keyPath: string, publicPath: string): KeySource {
  for (const [p, what] of [[keyPath, "signing key"], [publicPath, "public key"]] as const) {
    try {
      if (checkRegularOrAbsent(p, what)) throw new KeyFileError(`${what} ${p} already exists; refusing to overwrite it`);
    } catch (err) {
      if (err instanceof UnsafeFileError) throw new KeyFileError(err.message);
      throw err;
    }
  }
  const pair = generateKeyPair();
  createExclusive(keyPath, pair.privateKeyPem, 0o600, "signing key");
  createExclusive(publicPath, pair.publicKeyPem, 0o644, "public key");
  return loadSigningKey(keyPath);
}

/**
 * Publishes the public key at `publicPath` (0644): writes it when absent, accepts
 * it when it holds the same key, refuses a symlink, a non-regular file or a different key.
 */
export function publishPublicKey(key: KeySource, publicPath: string): "written" | "unchanged" {
  let exists: boolean;
  try {
    exists = checkRegularOrAbsent(publicPath, "public key");
  } catch (err) {
    throw new KeyFileError((err as Error).message);
  }
  if (!exists) {
    createExclusive(publicPath, key.publicKeyPem, 0o644, "public key");
    return "written";
  }
  const existing = readFileSync(publicPath, "utf8");
  let same = false;
  try {
    same = fingerprint(parsePublicKey(existing)) === key.fingerprint;
  } catch {
    same = false;
  }
  if (!same) {
    throw new KeyFileError(
      `public key ${publicPath} holds a different key than signing key (fingerprint ${key.fingerprint}). ` +
        "Receipts would not verify against it. Move the old file away (keep it to verify old receipts) and restart.",
    );
  }
  republishMode(publicPath);
  return "unchanged";
}

/** The public key is 0644 after every start, whatever mode it was left with (through the fd: no symlink is followed). */
function republishMode(publicPath: string): void {
  const fd = openSync(publicPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if ((st.mode & 0o7777) === 0o644) return;
    try {
      fchmodSync(fd, 0o644);
    } catch (err) {
      throw new KeyFileError(
        `public key ${publicPath} has mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")} and belongs to uid ${st.uid}, so the daemon (uid ${process.getuid?.()}) ` +
          `cannot publish it 0644 (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Fix: chown it to the daemon's user, or move it away (it is written again at start).`,
      );
    }
  } finally {
    closeSync(fd);
  }
}
