// The daemon's resource limits: what any allowed peer could otherwise grow
// without bound (buffered partial frames, open sub-agent chains), their
// defaults and how configured values are read.
import { totalmem } from "node:os";
import { HEADER_BYTES, MAX_FRAME_BYTES } from "../protocol/framing.ts";

const MiB = 1024 * 1024;
/** At least one frame at the size limit must fit. */
export const MIN_BUFFERED_BYTES = MAX_FRAME_BYTES + HEADER_BYTES;
export const DEFAULT_MAX_AGENT_CHAINS = 1000;
export const MAX_AGENT_CHAINS_LIMIT = 1_000_000;

/** 1/64 of the machine's memory, between 16 and 64 MiB. */
export function defaultMaxBufferedBytes(memory = totalmem()): number {
  return Math.min(64 * MiB, Math.max(16 * MiB, Math.floor(memory / 64)));
}

const UNITS: Record<string, number> = { "": 1, B: 1, KiB: 1024, MiB, GiB: 1024 * MiB };

/** A byte count: an integer, or a string such as "64MiB" (units B, KiB, MiB, GiB); undefined when malformed. */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*([0-9]+)\s*(B|KiB|MiB|GiB)?\s*$/.exec(value);
  if (m === null) return undefined;
  const n = Number(m[1]) * UNITS[m[2] ?? ""]!;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A count: an integer or a string of digits; undefined when malformed. */
export function parseCount(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === "string" && /^\s*[0-9]+\s*$/.test(value)) return Number(value);
  return undefined;
}
