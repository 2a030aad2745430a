// `witness serve`: one process with its own key and database, serving until
// SIGTERM/SIGINT. An exclusive flock on `<db>.lock` keeps a second witness off
// the same state (two could each cosign a different fork).
import { closeSync, constants, openSync } from "node:fs";
import type { Logger } from "../daemon/log.ts";
import { UserFacingError } from "../errors.ts";
import { tryLockExclusive } from "../os/flock.ts";
import { checkRegularOrAbsent, ensureParentDir } from "../os/files.ts";
import type { TrustedLogs } from "./logs.ts";
import { startWitnessServer, type ListenAddress } from "./server.ts";
import { WitnessState } from "./state.ts";
import { Witness } from "./witness.ts";
import type { WitnessKey } from "./key.ts";

export interface ServeOptions {
  listen: ListenAddress;
  db: string;
  key: WitnessKey;
  logs: TrustedLogs;
  log: Logger;
}

function lockDatabase(db: string): () => void {
  const path = `${db}.lock`;
  try {
    checkRegularOrAbsent(path, "lock file");
    ensureParentDir(db);
  } catch (err) {
    throw new UserFacingError((err as Error).message);
  }
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  if (!tryLockExclusive(fd)) {
    closeSync(fd);
    throw new UserFacingError(`witness database ${db} is in use by another witness process; one database has exactly one witness. Stop the other one, or give this one its own --db.`);
  }
  return () => closeSync(fd);
}

export async function serveWitness(o: ServeOptions): Promise<number> {
  const unlock = lockDatabase(o.db);
  const state = new WitnessState(o.db);
  const witness = new Witness({ state, logs: o.logs, signer: o.key.signer });
  let server;
  try {
    server = startWitnessServer(witness, o.listen, o.log);
  } catch (err) {
    state.close();
    unlock();
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserFacingError(`cannot listen on ${o.listen.hostname}:${o.listen.port}${code === undefined ? "" : ` (${code})`}: ${(err as Error).message} Fix: choose another --listen address.`);
  }
  const host = o.listen.hostname.includes(":") ? `[${o.listen.hostname}]` : o.listen.hostname;
  o.log.info("witness_listening", { url: `http://${host}:${server.port}`, name: o.key.signer.name, vkey: o.key.vkey, db: o.db, logs: [...o.logs.keys()].join(",") });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  // Requests in flight finish (each is one short transaction); then the state closes.
  await server.stop();
  state.close();
  unlock();
  o.log.info("witness_stopped", { signal });
  return 0;
}
