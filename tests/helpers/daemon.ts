// Runs the compiled daemon as a real separate process on a private socket,
// database and key in a temporary directory.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { BINARY, tempDir } from "./fixtures.ts";

export interface DaemonHandle {
  dir: string;
  socket: string;
  db: string;
  key: string;
  publicKey: string;
  proc: ChildProcess;
  /** Everything the daemon wrote on stderr so far (JSON log lines). */
  stderr(): string;
  /** Parsed JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code (or signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  exited: Promise<number | string>;
}

export interface StartOptions {
  dir?: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Wait for the "listening" log line (default true). */
  waitReady?: boolean;
  timeoutMs?: number;
}

/** Starts `agent-receipts daemon` with --log-format json and waits until it listens. */
export async function startDaemon(opts: StartOptions = {}): Promise<DaemonHandle> {
  const dir = opts.dir ?? tempDir("ar-daemon-");
  const runDir = join(dir, "run");
  mkdirSync(runDir, { recursive: true, mode: 0o750 });
  const socket = join(runDir, "events.sock");
  const db = join(dir, "receipts.db");
  const key = join(dir, "signing.key");
  const args = ["daemon", "--socket", socket, "--db", db, "--key", key, "--log-format", "json", "--unsafe-socket-path", ...(opts.args ?? [])];
  const proc = spawn(BINARY, args, {
    env: { ...process.env, XDG_DATA_HOME: join(dir, "data"), XDG_RUNTIME_DIR: runDir, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  proc.stdout!.resume();
  const exited = new Promise<number | string>((resolve) => proc.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const logs = () =>
    err
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const handle: DaemonHandle = {
    dir, socket, db, key, publicKey: `${key}.pub`, proc, exited,
    stderr: () => err,
    logs,
    stop: async (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  if (opts.waitReady !== false) {
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    while (!logs().some((l) => l.event === "listening")) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`daemon exited early (${proc.exitCode ?? proc.signalCode}):\n${err}`);
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`daemon did not start listening within the timeout:\n${err}`);
      }
      await Bun.sleep(10);
    }
  }
  return handle;
}
