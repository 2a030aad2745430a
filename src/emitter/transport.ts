// What the emitter needs of one Unix-socket connection to the daemon: a
// bounded connect, ordered writes, a single "lost" notification however it
// ends, and a bounded half-close that waits for the daemon to close its side.
// Two implementations: node:net (connection.ts, the published package) and
// Bun's native sockets (the CLI's short-lived `emit` and `hook`, which start
// faster without node:net).
import type { TransportFailure } from "./errors.ts";
import { refusalCause } from "./listening.ts";

export interface ConnectionHandlers {
  connected(): void;
  /** Called exactly once, whatever ends the connection (error, timeout, the daemon closing it). */
  lost(kind: TransportFailure, message: string, code?: string): void;
}

/**
 * Why a connect failed, and the error code that says so. EAGAIN stands for
 * "a daemon is there but did not accept" (its queue of pending connections is
 * full, or it paused accepting), also when the runtime reported ECONNREFUSED.
 */
export function connectError(path: string, err: NodeJS.ErrnoException): { message: string; code: string | undefined } {
  const busy = (pid?: number) => ({
    message: `the daemon at ${path}${pid === undefined ? "" : ` (pid ${pid})`} is not accepting connections: it is stalled or overloaded (its queue of pending connections is full, or it paused accepting)`,
    code: "EAGAIN",
  });
  switch (err.code) {
    case "ENOENT":
      return { message: `no daemon socket at ${path} (ENOENT)`, code: err.code };
    case "EAGAIN":
      return busy();
    case "ECONNREFUSED": {
      // "No daemon" only when nothing is there.
      const cause = refusalCause(path);
      if (cause.kind === "busy") return busy(cause.pid);
      if (cause.kind === "absent") return { message: `no daemon listening at ${path} (ECONNREFUSED: the socket file is left over)`, code: err.code };
      return { message: `nothing accepted the connection at ${path} (ECONNREFUSED): no daemon listens there, or it is too busy to accept`, code: err.code };
    }
    case "EACCES":
      return { message: `no permission to connect to ${path} (EACCES)`, code: err.code };
    default:
      return { message: `cannot connect to ${path}: ${err.message}`, code: err.code };
  }
}

export interface Transport {
  readonly ready: boolean;
  /** Writes in order; `done` once the bytes are handed to the kernel (or with the error). */
  write(bytes: Uint8Array, done: (err?: NodeJS.ErrnoException | null) => void): void;
  /** Drops the connection (idempotent); `lost` is called once. */
  fail(kind: TransportFailure, message: string, code?: string): void;
  destroy(): void;
  /** Half-closes, then resolves true if the daemon closes its side within `timeoutMs` without a NAK byte. */
  endAndAwaitClose(timeoutMs: number): Promise<boolean>;
}

export type TransportFactory = (path: string, connectTimeoutMs: number, handlers: ConnectionHandlers) => Transport;
