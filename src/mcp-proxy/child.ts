// The MCP server as a child process: started without a shell, with our
// environment and working directory, its stderr going straight to ours; how
// it ended, as a shell would report it; and the shutdown ladder (close its
// stdin, wait, SIGTERM, wait, SIGKILL).
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { constants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { UserFacingError } from "../errors.ts";

export type ServerProcess = ChildProcessByStdio<Writable, Readable, null>;

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Exit status as a shell reports it: the code, or 128 + the signal's number. */
export function exitStatus(ended: Ended): number {
  if (ended.code !== null) return ended.code;
  const n = ended.signal === null ? undefined : constants.signals[ended.signal];
  return 128 + (n ?? 0);
}

export function describeEnd(ended: Ended): string {
  return ended.signal !== null ? `was killed by ${ended.signal}` : `exited with code ${ended.code}`;
}

/** Could not start: the reason and the shell's status (127 not found, 126 not executable). */
export class StartError extends UserFacingError {}

function startError(command: string, err: NodeJS.ErrnoException): StartError {
  switch (err.code) {
    case "ENOENT":
      return new StartError(`cannot start the MCP server "${command}": not found${command.includes("/") ? "" : " on PATH"} (ENOENT); check the command after "--" (GUI clients start servers with a minimal PATH: use an absolute path)`, 127);
    case "EACCES":
    case "ENOEXEC":
    case "EISDIR":
      return new StartError(`cannot start the MCP server "${command}": not an executable program (${err.code}); check the command after "--" and its permissions`, 126);
    default:
      return new StartError(`cannot start the MCP server "${command}": ${err.message}`, 126);
  }
}

/** Spawns the server; resolves once it runs, rejects with a StartError when it cannot start. */
export function startServer(command: string, args: string[]): Promise<ServerProcess> {
  let child: ServerProcess;
  try {
    child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"], env: process.env, cwd: process.cwd(), shell: false });
  } catch (err) {
    return Promise.reject(startError(command, err as NodeJS.ErrnoException));
  }
  return new Promise((resolve, reject) => {
    child.once("spawn", () => resolve(child));
    child.once("error", (err: NodeJS.ErrnoException) => reject(startError(command, err)));
  });
}

/**
 * The end of the server: resolves with how it ended. `stop()` closes its
 * stdin, then after `graceMs` sends SIGTERM, then after `graceMs` more SIGKILL.
 */
export class ServerLifetime {
  readonly ended: Promise<Ended>;
  private stopping = false;
  private killArmed = false;
  private readonly timers: Array<ReturnType<typeof setTimeout>> = [];

  constructor(private readonly child: ServerProcess, private readonly graceMs: number) {
    this.ended = new Promise((resolve) => child.once("exit", (code, signal) => {
      for (const t of this.timers) clearTimeout(t);
      resolve({ code, signal });
    }));
    // A server that stopped reading its stdin must not crash the proxy with EPIPE.
    child.stdin.on("error", () => {});
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.child.stdin.end();
    this.timers.push(setTimeout(() => {
      this.signal("SIGTERM");
      this.timers.push(setTimeout(() => this.signal("SIGKILL"), this.graceMs));
    }, this.graceMs));
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.exited) this.child.kill(sig);
  }

  /**
   * A signal the proxy itself got: passed on, and SIGKILL follows after twice
   * the grace period (the EOF ladder's whole length) if the server is still
   * there. Whoever stops the proxy wants it gone: a server that ignores the
   * signal must not keep the proxy alive, nor leave the client to SIGKILL the
   * proxy, which would lose the open calls' final records.
   */
  forward(sig: NodeJS.Signals): void {
    this.signal(sig);
    if (this.killArmed || this.exited) return;
    this.killArmed = true;
    this.timers.push(setTimeout(() => this.signal("SIGKILL"), 2 * this.graceMs));
  }
}
