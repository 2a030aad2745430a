// Runs the compiled daemon as a real separate process.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { BINARY, tempDir } from "./fixtures.ts";

export interface Launched {
  proc: ChildProcess;
  exited: Promise<number | string>;
  /** Everything the daemon wrote on stderr so far (JSON log lines). */
  stderr(): string;
  /** Parsed JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code (or signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Starts `agent-receipts daemon --log-format json <args>` exactly as given, with
 * exactly `env`. Resolves once it logs "listening" (listening: true) or exits.
 */
export async function launchDaemon(
  args: string[], env: Record<string, string | undefined>, opts: { cwd?: string; timeoutMs?: number; wrap?: string[] } = {},
): Promise<Launched & { listening: boolean }> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // `wrap` (e.g. setpriv ... --) runs the daemon as another user; signals still reach it, since setpriv execs.
  const argv = [...(opts.wrap ?? []), BINARY, "daemon", "--log-format", "json", ...args];
  const proc = spawn(argv[0]!, argv.slice(1), { env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  proc.stdout!.resume();
  const exited = new Promise<number | string>((resolve) => proc.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const logs = () =>
    err
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const handle: Launched = {
    proc, exited, stderr: () => err, logs,
    stop: async (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (logs().some((l) => l.event === "listening")) return { ...handle, listening: true };
    if (proc.exitCode !== null || proc.signalCode !== null) return { ...handle, listening: false };
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`daemon neither listened nor exited in time:\n${err}`);
    }
    await Bun.sleep(10);
  }
}

export interface DaemonHandle extends Launched {
  dir: string;
  socket: string;
  db: string;
  key: string;
  publicKey: string;
}

export interface StartOptions {
  dir?: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** The helper's default flags, less those the caller gives itself (a flag may be given only once). */
function defaultsNotIn(args: readonly string[], defaults: Record<string, string>): string[] {
  return Object.entries(defaults).filter(([flag]) => !args.some((a) => a === flag || a.startsWith(`${flag}=`))).flat();
}

/** Starts the daemon on a private socket, database and key in a temporary directory; throws unless it listens. */
export async function startDaemon(opts: StartOptions = {}): Promise<DaemonHandle> {
  const dir = opts.dir ?? tempDir("ar-daemon-");
  const runDir = join(dir, "run");
  mkdirSync(runDir, { recursive: true, mode: 0o750 });
  const socket = join(runDir, "events.sock");
  const db = join(dir, "receipts.db");
  const key = join(dir, "signing.key");
  const launched = await launchDaemon(
    [...defaultsNotIn(opts.args ?? [], { "--socket": socket, "--db": db, "--key": key }), "--unsafe-socket-path", ...(opts.args ?? [])],
    { ...process.env, XDG_DATA_HOME: join(dir, "data"), XDG_RUNTIME_DIR: runDir, ...opts.env },
    { timeoutMs: opts.timeoutMs },
  );
  if (!launched.listening) throw new Error(`daemon exited early (${await launched.exited}):\n${launched.stderr()}`);
  return { ...launched, dir, socket, db, key, publicKey: `${key}.pub` };
}
