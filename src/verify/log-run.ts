// The flags of verify's log check: --checkpoint FILE (one or more signed
// notes, as `checkpoint` prints them or a file: anchor appends them),
// --witness VKEY[,VKEY...] (or files of vkeys), --quorum K.
import { existsSync, readFileSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import { UserFacingError } from "../errors.ts";
import { StoreReader } from "../store/reader.ts";
import { splitNotes } from "../tlog/note-file.ts";
import { checkLog, type ExternalNote, type LogCheck } from "./log-check.ts";
import { witnessPolicy, type WitnessPolicy } from "./witness-policy.ts";

export function externalNotes(path: string | undefined): ExternalNote[] {
  if (path === undefined) return [];
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UserFacingError(`cannot read --checkpoint ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "it does not exist" : (err as Error).message}`);
  }
  const { notes } = splitNotes(text);
  if (notes.length === 0) {
    throw new UserFacingError(`--checkpoint ${path} holds no signed note; give a file written by agent-receipts checkpoint, the daemon's log.checkpoint or a file: anchor`);
  }
  return notes.map((note) => ({ source: path, note }));
}

/** vkeys from --witness: comma-separated vkeys, or files holding one vkey per line. */
export function witnessKeys(value: string | undefined): string[] {
  if (value === undefined) return [];
  const out: string[] = [];
  for (const item of value.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    if (existsSync(item)) {
      out.push(...readFileSync(item, "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")));
    } else {
      out.push(item);
    }
  }
  return out;
}

export function parseQuorum(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) throw new UserFacingError(`--quorum must be a whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}

export function policyOf(witness: string | undefined, quorum: string | undefined): WitnessPolicy | null {
  return witnessPolicy(witnessKeys(witness), parseQuorum(quorum));
}

export function runLogCheck(db: string, publicKey: KeyObject, external: ExternalNote[], witnesses: WitnessPolicy | null): LogCheck {
  const reader = new StoreReader(db);
  try {
    return checkLog(reader.db, { publicKey, external, witnesses });
  } finally {
    reader.close();
  }
}
