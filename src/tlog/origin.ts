// The log's origin (checkpoint line 1 and its note key name) when the
// operator sets none: the host name and the key fingerprint, so that two
// daemons, or one daemon after a key change, never share an origin.
import { hostname } from "node:os";

export function defaultLogOrigin(fingerprint: string, host: string = hostname()): string {
  const name = host.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "") || "localhost";
  const hex = fingerprint.replace(/^sha256:/, "").slice(0, 16);
  return `${name}/agent-receipts/${hex}`;
}
