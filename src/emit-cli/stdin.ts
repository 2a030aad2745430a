// `emit --stdin`: JSON Lines of events. All of stdin is read and every line
// checked before the first event is sent, so a bad line never leaves the
// lines before it recorded (a retry of the fixed input would duplicate them).
// That needs stdin to end, and bounds it.
import type { Readable } from "node:stream";
import { EXIT_USAGE, UserFacingError } from "../errors.ts";
import type { FrameBase } from "../emitter/frame.ts";
import { fieldsFromLine, prepareEvent, type KeyedFields } from "./input.ts";

/** The most stdin `emit --stdin` takes in one run: 16 frames of the 1 MiB maximum, or thousands of ordinary events. */
export const MAX_STDIN_BYTES = 16 * 1024 * 1024;

export interface LineEvent {
  line: number;
  fields: KeyedFields;
}

async function readBounded(input: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    total += bytes.length;
    if (total > maxBytes) {
      throw new UserFacingError(
        `stdin holds more than ${maxBytes / (1024 * 1024)} MiB of events; nothing was sent. Split them over several "emit --stdin" runs.`, EXIT_USAGE,
      );
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Every non-blank line as a checked event with its idempotency key; a bad line is a UserFacingError naming it, before anything is sent. */
export async function readLineEvents(input: Readable, base: FrameBase): Promise<LineEvent[]> {
  const text = await readBounded(input, MAX_STDIN_BYTES);
  const events: LineEvent[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.endsWith("\r") ? lines[i]!.slice(0, -1) : lines[i]!;
    if (line.trim() === "") continue;
    const lineNo = i + 1;
    const fields = prepareEvent(base, fieldsFromLine(line, lineNo), (err) => new UserFacingError(`stdin line ${lineNo}: ${err.message}; nothing was sent`, EXIT_USAGE));
    events.push({ line: lineNo, fields });
  }
  return events;
}
