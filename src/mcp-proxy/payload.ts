// What a frame carries as `input` / `output`: the JSON value exactly as
// parsed from the client's or server's line, or, when that cannot go into a
// 1 MiB frame (or has no RFC 8785 form), a stand-in naming the line's size
// and SHA-256, which anyone holding the transcript can check. The proxy
// holds no canonicalizer: the daemon hashes whatever the frame carries.
import { MAX_FRAME_BYTES } from "../protocol/framing.ts";
import type { Line } from "./lines.ts";

/** A payload and the line it came from (the stand-in describes that line). */
export interface Payload {
  value: unknown;
  line: Line;
}

export const OMITTED_TOO_LARGE = "over the 1 MiB frame limit";
export const OMITTED_UNENCODABLE = "not encodable as RFC 8785 JSON";

/** Room for payloads in one frame; the rest of a frame is well under 64 KiB. */
export const PAYLOAD_BUDGET = MAX_FRAME_BYTES - 64 * 1024;

export interface StandIn {
  omitted: string;
  /** The JSON-RPC line that held the payload: its length and `sha256:<hex>` of its bytes as sent. */
  message_bytes: number;
  message_sha256: string;
}

export function standIn(line: Line, why: string): StandIn {
  return { omitted: why, message_bytes: line.bytes, message_sha256: line.digest() };
}

/** An upper bound of the payload's size in a frame: its whole line (payloads of long lines were not kept). */
function cost(p: Payload | undefined): number {
  if (p === undefined || p.value === undefined) return 0;
  return p.line.complete ? p.line.bytes : Number.POSITIVE_INFINITY;
}

/** The values to send: payloads as they are while they fit the frame, the largest replaced by a stand-in first. */
export function framePayloads(input: Payload | undefined, output: Payload | undefined): { input?: unknown; output?: unknown } {
  const out: { input?: unknown; output?: unknown } = {};
  let inCost = cost(input);
  let outCost = cost(output);
  if (input?.value !== undefined) out.input = input.value;
  if (output?.value !== undefined) out.output = output.value;
  while (inCost + outCost > PAYLOAD_BUDGET) {
    if (outCost >= inCost) {
      out.output = standIn(output!.line, OMITTED_TOO_LARGE);
      outCost = 0;
    } else {
      out.input = standIn(input!.line, OMITTED_TOO_LARGE);
      inCost = 0;
    }
  }
  return out;
}
