// Who may emit (issue 5 §3): real OS users and groups, the compiled daemon
// running as its own user, and senders connecting as other users. A peer that
// is not allowed reaches the socket (it is in the socket's group) and is still
// refused at accept, before any frame is read.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chownSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { asUser, IS_ROOT, OsUsers, type OsUser } from "../helpers/os-users.ts";
import { BINARY, tempDir } from "../helpers/fixtures.ts";
import { killSenders, launchDaemon, readReceipts, RUNTIMES, sendAndConfirm, spawnSender, validFrame, waitFor, type Launched } from "./support.ts";

const users = new OsUsers();
let sockGroup: { name: string; gid: number };
let teamGroup: { name: string; gid: number };
let daemonUser: OsUser;
let teamMember: OsUser;
let outsider: OsUser;
const runDirs: string[] = [];
const running: Launched[] = [];

beforeAll(() => {
  if (!IS_ROOT) return;
  sockGroup = users.group("sock");
  teamGroup = users.group("team");
  daemonUser = users.user("d", [sockGroup.name]);
  // Team membership is supplementary only: the daemon must ask the kernel for the peer's groups.
  teamMember = users.user("a", [teamGroup.name, sockGroup.name]);
  outsider = users.user("b", [sockGroup.name]);
});

afterAll(async () => {
  killSenders();
  for (const d of running) await d.stop("SIGKILL");
  for (const dir of runDirs) rmSync(dir, { recursive: true, force: true });
  users.cleanup();
});

interface RunningDaemon extends Launched {
  socket: string;
  db: string;
}

/** The compiled daemon as `daemonUser`, with its socket under /run (a safe root) in a directory it owns. */
async function startAsDaemonUser(extra: string[], chainId: string): Promise<RunningDaemon> {
  const data = tempDir("ar-access-");
  chownSync(data, daemonUser.uid, daemonUser.gid);
  const runDir = join("/run", `${users.name("run")}-${chainId}`);
  mkdirSync(runDir, { mode: 0o750 });
  chownSync(runDir, daemonUser.uid, daemonUser.gid);
  runDirs.push(runDir);
  const socket = join(runDir, "events.sock");
  const db = join(data, "receipts.db");
  const args = ["--socket", socket, "--db", db, "--key", join(data, "signing.key"), "--chain-id", chainId, "--socket-group", sockGroup.name, ...extra];
  const d = await launchDaemon(args, { HOME: data }, { wrap: asUser(daemonUser) });
  if (!d.listening) throw new Error(`daemon did not start (${await d.exited}):\n${d.stderr()}`);
  running.push(d);
  return { ...d, socket, db };
}

/** Sends one frame as `user` and waits until the daemon closes the connection. */
async function sendAs(user: OsUser | null, socket: string, session: string): Promise<Array<Record<string, unknown>>> {
  const h = spawnSender("node", socket, sendAndConfirm([validFrame(session, 0)]), user === null ? {} : { wrap: asUser(user) });
  await h.exited;
  return h.lines();
}

function sessions(db: string, chainId: string): string[] {
  return readReceipts(db, chainId).map((r) => r.receipt.issuer.session_id ?? "");
}

function startError(d: Launched): string {
  return String(d.logs().find((l) => l.event === "start_failed")?.error);
}

function refusals(d: Launched): Array<Record<string, unknown>> {
  return d.logs().filter((l) => l.event === "connection_refused");
}

describe.skipIf(!IS_ROOT)("emitter access control (needs root to create users)", () => {
  test("default: only root and the daemon's own uid; a socket-group member is refused at accept and logged", async () => {
    const d = await startAsDaemonUser([], "default");
    // The socket and its directory belong to the socket group, so its members can connect at all.
    const sock = statSync(d.socket);
    expect([sock.mode & 0o777, sock.uid, sock.gid]).toEqual([0o660, daemonUser.uid, sockGroup.gid]);
    const dir = statSync(join(d.socket, ".."));
    expect([dir.mode & 0o777, dir.gid]).toEqual([0o750, sockGroup.gid]);

    // The CLI emitter says what probably happened, at once rather than after its confirmation timeout.
    const wrap = asUser(outsider);
    const t0 = performance.now();
    const cli = spawnSync(wrap[0]!, [...wrap.slice(1), BINARY, "emit", "--socket", d.socket, "--tool", "read_file", "--timeout-ms", "5000"], { encoding: "utf8" });
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(cli.status).toBe(1);
    // Depending on timing the daemon's close is seen at connect (ECONNRESET, or Bun's socket reporting
    // "Failed to connect" when the reset comes during its connect), on the write (EPIPE) or while waiting
    // for the confirmation; each time the emitter points at the allow-list.
    expect(cli.stderr).toMatch(/(ECONNRESET [^ ]+|cannot connect to [^ ]+: Failed to connect|write EPIPE[^.]*|closed the connection without confirming that it committed the event|closed the connection before accepting anything \([^)]*\))\. It may not accept this user: its log then shows connection_refused/);
    const refused = await sendAs(outsider, d.socket, "outsider");
    expect(refused.some((l) => l.stage === "connect")).toBe(false); // the filesystem let it in ...
    expect(refused.find((l) => "closed" in l)).toMatchObject({ closed: true }); // ... and the daemon closed it
    await sendAs(null, d.socket, "root");
    await waitFor("root's receipt", () => sessions(d.db, "default"), (s) => s.includes("root"));
    expect(sessions(d.db, "default")).toEqual(["root"]);
    const [line] = refusals(d); // two refusals of one uid within 10 s: one log line
    expect(line).toMatchObject({ level: "warn", uid: outsider.uid, gid: outsider.gid, pid: expect.any(Number) });
    expect(String(line!.reason)).toContain("no allow_uids/allow_groups");
    expect(await d.stop()).toBe(0);
    // Refused before any frame was read: the daemon counted only root's frame.
    expect(d.logs().find((l) => l.event === "stopped")).toMatchObject({ frames: 1, refused_connections: 2 });
  });

  test("allow_groups admits a supplementary member (SO_PEERGROUPS) and no one else", async () => {
    const d = await startAsDaemonUser(["--allow-groups", teamGroup.name], "groups");
    await sendAs(teamMember, d.socket, "team");
    await sendAs(outsider, d.socket, "outsider");
    await waitFor("team receipt", () => sessions(d.db, "groups"), (s) => s.length > 0);
    const rows = readReceipts(d.db, "groups");
    expect(rows.map((r) => r.receipt.issuer.session_id)).toEqual(["team"]);
    const subject = rows[0]!.receipt.credentialSubject;
    expect(subject.principal.id).toBe(`did:user:${teamMember.name}`);
    expect(subject.action.peer_credential).toMatchObject({ uid: teamMember.uid, gid: teamMember.gid });
    expect(refusals(d).map((l) => l.uid)).toEqual([outsider.uid]);
    expect(await d.stop()).toBe(0);
  });

  test("allow_uids admits a user by login name", async () => {
    const d = await startAsDaemonUser(["--allow-uids", outsider.name], "uids");
    await sendAs(outsider, d.socket, "outsider");
    await sendAs(teamMember, d.socket, "team");
    await waitFor("outsider receipt", () => sessions(d.db, "uids"), (s) => s.length > 0);
    expect(sessions(d.db, "uids")).toEqual(["outsider"]);
    expect(refusals(d).map((l) => l.uid)).toEqual([teamMember.uid]);
    expect(await d.stop()).toBe(0);
  });

  test("a peer retrying in a loop is refused every time but logged once per interval", async () => {
    const d = await startAsDaemonUser([], "flood");
    const loop = `const net = require("node:net"); let n = 0;
      const once = () => { const s = net.connect(process.argv[1]); s.on("error", () => {}); s.on("close", () => (++n < 25 ? once() : process.exit(0))); };
      once();`;
    const r = spawnSync(asUser(outsider)[0]!, [...asUser(outsider).slice(1), RUNTIMES.node, "-e", loop, d.socket], { encoding: "utf8", timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(await d.stop()).toBe(0);
    expect(refusals(d)).toHaveLength(1);
    expect(d.logs().find((l) => l.event === "stopped")).toMatchObject({ refused_connections: 25, frames: 0 });
  });

  test("unknown names and a socket group the daemon is not in stop the start with a clear message", async () => {
    const data = tempDir("ar-access-bad-");
    const base = ["--socket", join(data, "s.sock"), "--db", join(data, "r.db"), "--key", join(data, "k"), "--unsafe-socket-path"];
    const cases: Array<[string[], RegExp]> = [
      [["--allow-groups", "no-such-group-ar"], /allow_groups: there is no group named "no-such-group-ar"/],
      [["--allow-uids", "no-such-user-ar"], /allow_uids: there is no user named "no-such-user-ar"/],
      [["--socket-group", "no-such-group-ar"], /socket_group: there is no group named "no-such-group-ar"/],
    ];
    for (const [extra, message] of cases) {
      const d = await launchDaemon([...base, ...extra]);
      expect(d.listening).toBe(false);
      expect(await d.exited).toBe(2);
      expect(startError(d)).toMatch(message);
    }
    // The daemon user is not in the team group, so it cannot hand its socket to it.
    chownSync(data, daemonUser.uid, daemonUser.gid);
    const d = await launchDaemon([...base, "--socket-group", teamGroup.name], { HOME: data }, { wrap: asUser(daemonUser) });
    expect(d.listening).toBe(false);
    expect(await d.exited).toBe(2);
    expect(startError(d)).toMatch(/must be a member of socket_group/);
  });
});
