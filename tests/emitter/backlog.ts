// Fills a listener's queue of pending connections: against a stopped
// (SIGSTOP) listener, connect until the kernel refuses. The caller destroys
// the returned sockets when done.
import { createConnection, type Socket } from "node:net";

export async function fillBacklog(path: string, held: Socket[]): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ path });
      s.once("connect", () => resolve(true));
      s.once("error", () => resolve(false));
      held.push(s);
    });
    if (!ok) return;
  }
  throw new Error("the backlog never filled");
}
