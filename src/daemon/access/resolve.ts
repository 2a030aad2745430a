// Turns the configured names or ids of allow_uids, allow_groups and
// socket_group into numeric ids, naming the key and the fix when one is unknown.
import { gidOfGroup, uidOfLogin } from "../../os/accounts.ts";
import type { AccessLists } from "./policy.ts";

/** A user or group as configured: a numeric id or a name. */
export type Principal = number | string;

export class AccessConfigError extends Error {}

export function resolveUid(value: Principal, key: string): number {
  if (typeof value === "number") return value;
  const uid = uidOfLogin(value);
  if (uid === undefined) throw new AccessConfigError(`${key}: there is no user named "${value}". Create it first or give its numeric uid.`);
  return uid;
}

export function resolveGid(value: Principal, key: string): number {
  if (typeof value === "number") return value;
  const gid = gidOfGroup(value);
  if (gid === undefined) throw new AccessConfigError(`${key}: there is no group named "${value}". Create it first (e.g. groupadd ${value}) or give its numeric gid.`);
  return gid;
}

export function resolveAccessLists(allowUids: readonly Principal[], allowGroups: readonly Principal[]): AccessLists {
  return {
    uids: allowUids.map((u) => resolveUid(u, "allow_uids")),
    gids: allowGroups.map((g) => resolveGid(g, "allow_groups")),
  };
}
