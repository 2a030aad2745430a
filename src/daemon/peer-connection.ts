// Per-connection state: the kernel-attested peer (captured once, at accept),
// the frame decoder, and which of its events still await commit.
import { FrameDecoder } from "../protocol/framing.ts";
import type { AttestedPeer } from "./pipeline/builder.ts";

export class PeerConnection {
  readonly decoder = new FrameDecoder();
  /** Highest event number submitted from this connection (0: none). */
  lastEventNo = 0;
  /** Bytes arrived after the daemon stopped reading (shutdown): never processed. */
  unread = false;

  constructor(readonly id: number, readonly peer: AttestedPeer) {}
}
