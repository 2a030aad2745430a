// The daemon's listening socket, which can stop accepting and start again.
// Out of descriptors, accept() fails with EMFILE while the socket stays
// readable, so the event loop spins on it at full CPU; closing the listener
// stops that. Meanwhile clients get ECONNREFUSED and open connections are
// still served. The socket file stays in place throughout: Bun unlinks the
// path it bound when it stops, so every bind goes to a temporary name in the
// same directory, which is then linked (first start: fails if the path was
// taken meanwhile) or renamed (later: replaces our own idle socket) into place.
import type { SocketHandler, UnixSocketListener } from "bun";
import { linkSync, renameSync, unlinkSync } from "node:fs";

export class ListenError extends Error {}

/** Where a new socket is bound before it is moved into place: one byte longer than the path. */
export function temporarySocketPath(path: string): string {
  return `${path}~`;
}

export class PausableListener<T> {
  private listener: UnixSocketListener<T> | null = null;
  private stopped = false;
  private readonly tmp: string;

  /** `prepare` sets the mode and group of a freshly bound socket, before it appears at `path`. */
  constructor(readonly path: string, private readonly handlers: SocketHandler<T>, private readonly prepare: (boundPath: string) => void) {
    this.tmp = temporarySocketPath(path);
  }

  get accepting(): boolean {
    return this.listener !== null;
  }

  /** The first bind; refuses when something took the path since it was checked. */
  start(): void {
    this.bind(() => {
      try {
        linkSync(this.tmp, this.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") {
          throw new ListenError(`another daemon is already listening on ${this.path}. Stop it first, or give this one another --socket path.`);
        }
        throw err;
      }
      unlinkSync(this.tmp);
    });
  }

  /** Stops accepting; the socket file stays, so connecting clients are refused, not told that no daemon exists. */
  pause(): void {
    this.listener?.stop(false);
    this.listener = null;
  }

  /** Accepts again. Throws (EMFILE, ...) when no socket can be bound yet. */
  resume(): void {
    if (this.listener !== null || this.stopped) return;
    this.bind(() => renameSync(this.tmp, this.path));
  }

  /** For good (shutdown). */
  stop(): void {
    this.stopped = true;
    this.pause();
  }

  private bind(publish: () => void): void {
    try {
      unlinkSync(this.tmp); // left by a daemon that was killed while binding
    } catch {
      // absent, as expected
    }
    const listener = Bun.listen<T>({ unix: this.tmp, allowHalfOpen: true, socket: this.handlers });
    try {
      this.prepare(this.tmp);
      publish();
    } catch (err) {
      listener.stop(false); // also unlinks the temporary name
      throw err;
    }
    this.listener = listener;
  }
}
