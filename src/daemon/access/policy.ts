// Who may emit: decided once per connection, at accept, from the
// kernel-attested uid, primary gid and (only when needed) supplementary groups.
// Root and the daemon's own uid are always allowed; with no allow-list, nobody
// else is (the per-user default).

export interface AccessLists {
  uids: readonly number[];
  gids: readonly number[];
}

export type AccessDecision = { allowed: true } | { allowed: false; reason: string };

export class AccessPolicy {
  private readonly uids: Set<number>;
  private readonly gids: Set<number>;

  constructor(lists: AccessLists, selfUid: number) {
    this.uids = new Set([0, selfUid, ...lists.uids]);
    this.gids = new Set(lists.gids);
  }

  /** What is allowed, for the start-up log. */
  summary(): { allow_uids: string; allow_groups: string | undefined } {
    return { allow_uids: [...this.uids].join(","), allow_groups: this.gids.size > 0 ? [...this.gids].join(",") : undefined };
  }

  /** `groups` is asked only when uid and primary gid do not decide. */
  decide(peer: { uid: number; gid: number }, groups: () => readonly number[]): AccessDecision {
    if (this.uids.has(peer.uid)) return { allowed: true };
    if (this.gids.size > 0) {
      if (this.gids.has(peer.gid) || groups().some((g) => this.gids.has(g))) return { allowed: true };
      return { allowed: false, reason: `uid ${peer.uid} is not in allow_uids and is not a member of any group in allow_groups` };
    }
    return { allowed: false, reason: `uid ${peer.uid} is not the daemon's own uid or root, and no allow_uids/allow_groups are configured` };
  }
}
