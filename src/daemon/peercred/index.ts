// Chooses the platform's peer credential reader. Each platform module opens
// its own system libraries, so it is loaded only on that platform.
import type { PeerCredReader } from "./types.ts";

export async function createPeerCredReader(): Promise<PeerCredReader> {
  if (process.platform === "darwin") return new (await import("./darwin.ts")).DarwinPeerCredReader();
  if (process.platform === "linux") return new (await import("./linux.ts")).LinuxPeerCredReader();
  throw new Error(`peer credentials are not supported on ${process.platform}`);
}

export type { PeerCapture, PeerCredReader } from "./types.ts";
export { PeerCredError } from "./types.ts";
