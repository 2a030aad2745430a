// Real OS users and groups for tests that prove separation (root only, as in
// CI). Names are unique per run; everything created is removed by cleanup().
import { spawnSync } from "node:child_process";

export const IS_ROOT = process.getuid?.() === 0;

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

export class OsUsers {
  private readonly users: string[] = [];
  private readonly groups: string[] = [];
  /** A short per-run tag keeps names under the 32-character login limit and apart from other runs. */
  private readonly tag = `${(process.pid % 100000).toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

  name(role: string): string {
    return `ar${this.tag}-${role}`.slice(0, 32);
  }

  group(role: string): { name: string; gid: number } {
    const name = this.name(role);
    run("groupadd", [name]);
    this.groups.push(name);
    return { name, gid: Number(run("getent", ["group", name]).split(":")[2]) };
  }

  /** A user with its own primary group and the given supplementary groups; no login shell, and no home unless asked. */
  user(role: string, groups: string[] = [], opts: { home?: boolean } = {}): OsUser & { home: string } {
    const name = this.name(role);
    const home = opts.home ? ["--create-home"] : ["--no-create-home"];
    run("useradd", [...home, "--shell", "/usr/sbin/nologin", "--user-group", ...(groups.length > 0 ? ["--groups", groups.join(",")] : []), name]);
    this.users.push(name);
    return { name, uid: Number(run("id", ["-u", name])), gid: Number(run("id", ["-g", name])), home: run("getent", ["passwd", name]).split(":")[5]! };
  }

  cleanup(): void {
    for (const u of this.users.splice(0)) spawnSync("userdel", ["--remove", u]);
    for (const g of this.groups.splice(0)) spawnSync("groupdel", [g]);
  }
}

/** The argv prefix that runs a command as `user` with its primary and supplementary groups (like a login). */
export function asUser(user: OsUser, opts: { group?: string; extra?: string[] } = {}): string[] {
  return ["setpriv", `--reuid=${user.uid}`, `--regid=${opts.group ?? user.gid}`, `--init-groups`, ...(opts.extra ?? []), "--"];
}
