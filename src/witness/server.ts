// The witness's HTTP face (Bun.serve): POST /add-checkpoint and the monitoring
// GET /<hex sha256(origin)>/checkpoint. One log line per request. A handler
// error answers 500 and is logged; it never stops the server.
import type { Server } from "bun";
import type { Logger } from "../daemon/log.ts";
import type { Witness, WitnessReply } from "./witness.ts";

/** A note with 100 signatures and 63 proof lines fits many times over; bigger bodies get 413 before any work. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface ListenAddress {
  hostname: string;
  port: number;
}

export class ListenAddressError extends Error {}

/** "HOST:PORT" or "[IPv6]:PORT"; port 0 picks a free port (printed at start). */
export function parseListen(addr: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):([0-9]{1,5})$/.exec(addr);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new ListenAddressError(`--listen ${JSON.stringify(addr)} is not HOST:PORT, e.g. 127.0.0.1:7380 (or [::1]:7380; 0.0.0.0:7380 to listen on every interface)`);
  }
  return { hostname: m[1] ?? m[2]!, port };
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const CHECKPOINT_PATH = /^\/([0-9a-f]{64})\/checkpoint$/;

function plain(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(`${text}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}

function reply(r: WitnessReply): Response {
  return new Response(r.body, { status: r.status, headers: { "content-type": r.contentType } });
}

export function startWitnessServer(witness: Witness, listen: ListenAddress, log: Logger): Server<undefined> {
  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (url.pathname === "/add-checkpoint") {
      if (req.method !== "POST") return plain(405, "add-checkpoint takes POST", { allow: "POST" });
      let body: string;
      try {
        body = decoder.decode(await req.arrayBuffer());
      } catch {
        return plain(400, "bad request: the body is not UTF-8");
      }
      const r = witness.addCheckpoint(body);
      const level = r.status === 200 || r.status === 409 ? "info" : "warn";
      log[level]("add_checkpoint", { status: r.status, ...r.summary });
      return reply(r);
    }
    const m = CHECKPOINT_PATH.exec(url.pathname);
    if (m !== null) {
      if (req.method !== "GET" && req.method !== "HEAD") return plain(405, "checkpoint takes GET", { allow: "GET, HEAD" });
      return reply(witness.checkpoint(m[1]!));
    }
    return plain(404, "not found: this witness serves POST /add-checkpoint and GET /<sha256 of the origin, hex>/checkpoint");
  };
  return Bun.serve({
    hostname: listen.hostname,
    port: listen.port,
    maxRequestBodySize: MAX_BODY_BYTES,
    fetch: handle,
    error(err) {
      log.error("request_failed", { error: err.message });
      return plain(500, "internal error; see the witness's log");
    },
  });
}
