// Runs the compiled `agent-receipts mcp-proxy` as a real process in front of
// a real server process, speaking newline-delimited JSON-RPC on its stdio the
// way an MCP client does; reads the daemon's receipts of one session.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { BINARY } from "../helpers/fixtures.ts";
import { cleanEnv, readReceipts, type Receipt } from "../daemon/support.ts";

export const SCRIPTED = join(import.meta.dir, "fixtures", "scripted-server.mjs");
export const NODE = Bun.which("node") ?? "/usr/bin/node";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Msg = { [key: string]: Json };

export interface ProxyOptions {
  /** The server command (default: node scripted-server.mjs). */
  server?: string[];
  proxyArgs?: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
}

const running = new Set<ChildProcessWithoutNullStreams>();

/** Kills every proxy still running (afterAll: a failed test must not leave processes behind). */
export function killProxies(): void {
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  running.clear();
}

export class ProxyRun {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly out: Buffer[] = [];
  private partial: Buffer[] = [];
  private readonly lines: string[] = [];
  private err = "";
  private waiters: Array<() => void> = [];

  constructor(opts: ProxyOptions = {}) {
    const server = opts.server ?? [NODE, SCRIPTED];
    this.proc = spawn(BINARY, ["mcp-proxy", ...(opts.proxyArgs ?? []), "--", ...server], { env: cleanEnv(opts.env), cwd: opts.cwd }) as ChildProcessWithoutNullStreams;
    running.add(this.proc);
    this.proc.stdout.on("data", (chunk: Buffer) => {
      this.out.push(chunk);
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl < 0) break;
        this.partial.push(chunk.subarray(start, nl));
        this.lines.push(Buffer.concat(this.partial).toString("utf8"));
        this.partial = [];
        start = nl + 1;
      }
      if (start < chunk.length) this.partial.push(chunk.subarray(start));
      for (const w of this.waiters.splice(0)) w();
    });
    this.proc.stderr.on("data", (d: Buffer) => (this.err += d.toString()));
    this.proc.stdin.on("error", () => {});
    this.exited = new Promise((resolve) => this.proc.on("exit", (code, signal) => {
      running.delete(this.proc);
      resolve({ code, signal });
      for (const w of this.waiters.splice(0)) w();
    }));
  }

  get stdout(): Buffer {
    return Buffer.concat(this.out);
  }

  get stderr(): string {
    return this.err;
  }

  /** Every complete stdout line so far. */
  get outputLines(): string[] {
    return [...this.lines];
  }

  write(text: string | Buffer): void {
    this.proc.stdin.write(text);
  }

  send(msg: Json): void {
    this.write(`${JSON.stringify(msg)}\n`);
  }

  /** The first stdout line (parsed) that `match` accepts, waiting up to timeoutMs. */
  async next(match: (m: Json) => boolean, timeoutMs = 10_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      for (; seen < this.lines.length; seen++) {
        let m: Json;
        try {
          m = JSON.parse(this.lines[seen]!) as Json;
        } catch {
          continue;
        }
        if (match(m)) return m;
      }
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`proxy exited before the expected line; stderr:\n${this.err}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching line within ${timeoutMs} ms; lines: ${this.lines.slice(-5).join("\n").slice(0, 2000)}\nstderr:\n${this.err}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The response to request `id` (same JSON type and value). */
  response(id: string | number, timeoutMs?: number): Promise<Msg> {
    return this.next((m) => isMsg(m) && m.id === id && m.method === undefined, timeoutMs) as Promise<Msg>;
  }

  async request(id: string | number, method: string, params: Json = {}): Promise<Msg> {
    this.send({ jsonrpc: "2.0", id, method, params });
    return this.response(id);
  }

  async initialize(id: string | number = 0): Promise<Msg> {
    const r = await this.request(id, "initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "1" } });
    this.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    return r;
  }

  call(id: string | number, name: string, args: Json = {}, extra: Msg = {}): Promise<Msg> {
    return this.request(id, "tools/call", { name, arguments: args, ...extra });
  }

  /** Closes the proxy's stdin (the client's EOF) and waits for it to exit. */
  async close(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.proc.stdin.end();
    return this.exited;
  }
}

export function isMsg(m: Json): m is Msg {
  return typeof m === "object" && m !== null && !Array.isArray(m);
}

/** The live receipts of one session, in chain order. */
export function sessionReceipts(db: string, session: string): Receipt[] {
  return readReceipts(db).map((r) => r.receipt).filter((r) => r.issuer.session_id === session && r.credentialSubject.action.tool_name !== "events_dropped");
}

/** Waits until the session has at least `n` receipts. */
export async function receiptsOf(db: string, session: string, n: number, timeoutMs = 10_000): Promise<Receipt[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rs = sessionReceipts(db, session);
    if (rs.length >= n) return rs;
    if (Date.now() > deadline) throw new Error(`session ${session}: ${rs.length} receipts, expected ${n}`);
    await Bun.sleep(20);
  }
}

export const subject = (r: Receipt) => r.credentialSubject;
export const keyOf = (r: Receipt) => r.credentialSubject.action.idempotency_key as string;

/** Receipts grouped by correlation_id, in order of first appearance. */
export function byCorrelation(rs: Receipt[]): Map<string, Receipt[]> {
  const m = new Map<string, Receipt[]>();
  for (const r of rs) {
    const c = r.credentialSubject.correlation_id as string;
    m.set(c, [...(m.get(c) ?? []), r]);
  }
  return m;
}

export function textOf(response: Msg): string {
  const result = response.result as Msg;
  return ((result.content as Msg[])[0]!.text as string);
}
