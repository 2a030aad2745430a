// Whether this user may read a file of the record, and how to be let in: the
// group of its directory (agentreceipts-read on a system install).
import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";
import { groupNameOfGid, loginOfUid } from "../os/accounts.ts";

function groupOf(path: string): string {
  try {
    const gid = statSync(path).gid;
    return groupNameOfGid(gid) ?? String(gid);
  } catch {
    return "agentreceipts-read";
  }
}

export function joinFix(path: string): string {
  const group = groupOf(dirname(path));
  const uid = process.getuid?.() ?? 0;
  return `join group ${group}, which may read it: sudo usermod -aG ${group} ${loginOfUid(uid) ?? uid}, then log in again`;
}

/** Whether this user may read `path`: "denied" also when a directory on the way is closed to it. */
export function readability(path: string): "ok" | "missing" | "denied" {
  try {
    accessSync(path, constants.R_OK);
    return "ok";
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "denied";
  }
}

