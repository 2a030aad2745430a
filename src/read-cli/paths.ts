// Which database and public key a reader opens: flags, then the environment,
// then the config file, then the defaults — the resolution `status` and
// `doctor` use (src/status/targets.ts), on top of src/paths/resolve.ts.
import { readerPaths, readReaderConfig } from "../status/targets.ts";

export interface ReaderPathFlags {
  db?: string;
  "public-key"?: string;
  config?: string;
}

export interface ReaderFiles {
  db: string;
  publicKey: string;
  /** --public-key was given: a key that cannot be read is a usage error, not a note. */
  publicKeyExplicit: boolean;
}

export function readerFiles(flags: ReaderPathFlags): ReaderFiles {
  const config = readReaderConfig(flags.config);
  const p = readerPaths({ db: flags.db, publicKey: flags["public-key"], config: flags.config }, config, null);
  return { db: p.db.path, publicKey: p.publicKey.path, publicKeyExplicit: p.publicKey.explicit };
}
