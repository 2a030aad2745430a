// The stand-in the hook sends for a tool payload the frame cannot carry (over
// the 1 MiB frame limit, or not encodable), so that the receipt still shows
// there was one: its parameters_hash / response_hash is the hash of this
// stand-in, which anyone holding the original payload can rebuild and check.
import { findUnencodable, type JsonObject } from "../protocol/json.ts";
import { payloadHash } from "../receipt/canonical.ts";

export const OMITTED_TOO_LARGE = "over the 1 MiB frame limit";
export const OMITTED_UNENCODABLE = "not encodable as RFC 8785 JSON";

/**
 * `{"omitted": "over the 1 MiB frame limit", "sha256": "sha256:<hex of the RFC 8785 form of the payload>"}`,
 * or `{"omitted": "not encodable as RFC 8785 JSON"}` when the payload has no canonical form to hash.
 */
export function omittedPayload(value: unknown): JsonObject {
  if (findUnencodable(value) !== undefined) return { omitted: OMITTED_UNENCODABLE };
  return { omitted: OMITTED_TOO_LARGE, sha256: payloadHash(value) };
}
