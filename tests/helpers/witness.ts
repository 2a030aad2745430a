// Runs the compiled `agent-receipts witness serve` as a real separate process
// on loopback, with its own key and database.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { BINARY } from "./fixtures.ts";

export interface WitnessKeyFiles {
  key: string;
  vkeyFile: string;
  vkey: string;
}

/** `witness keys init` through the binary. */
export function initWitnessKey(dir: string, name = "witness.test/w1"): WitnessKeyFiles {
  const key = join(dir, "witness.key");
  const r = spawnSync(BINARY, ["witness", "keys", "init", "--key", key, "--name", name, "--json"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`witness keys init failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { vkey: string; vkey_file: string };
  return { key, vkeyFile: out.vkey_file, vkey: out.vkey };
}

export interface WitnessProcess {
  proc: ChildProcess;
  /** http://127.0.0.1:PORT */
  url: string;
  exited: Promise<number | string>;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Starts `witness serve --listen 127.0.0.1:<port>`; resolves once it prints its URL. */
export async function startWitness(opts: { db: string; key: string; logs: string[]; args?: string[]; port?: number; timeoutMs?: number }): Promise<WitnessProcess> {
  const logArgs = opts.logs.length > 0 ? ["--log", ...opts.logs] : [];
  const args = ["witness", "serve", "--listen", `127.0.0.1:${opts.port ?? 0}`, "--db", opts.db, "--key", opts.key, ...(opts.args ?? []), ...logArgs];
  const proc = spawn(BINARY, args, { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  proc.stdout!.resume();
  const exited = new Promise<number | string>((resolve) => proc.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    return exited;
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const m = /witness_listening url=(\S+)/.exec(err);
    if (m !== null) return { proc, url: m[1]!, exited, stderr: () => err, stop };
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`witness exited early (${proc.exitCode ?? proc.signalCode}):\n${err}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`witness did not start in time:\n${err}`);
    }
    await Bun.sleep(10);
  }
}

export interface Answer {
  status: number;
  contentType: string | null;
  body: string;
}

export async function addCheckpoint(url: string, body: string): Promise<Answer> {
  const res = await fetch(`${url}/add-checkpoint`, { method: "POST", body });
  return { status: res.status, contentType: res.headers.get("content-type"), body: await res.text() };
}
