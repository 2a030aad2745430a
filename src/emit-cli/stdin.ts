// `emit --stdin`: JSON Lines of events, sent one by one over one connection as
// they arrive (a producer may stream for a long time).
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { EXIT_USAGE, UserError } from "../cli/errors.ts";
import { EmitValidationError } from "../emitter/errors.ts";
import type { Delivery } from "./delivery.ts";
import { fieldsFromLine } from "./input.ts";

/** Sends every non-blank line; returns how many events were sent. A bad line stops with a UserError naming it. */
export async function sendLines(delivery: Delivery, input: Readable): Promise<number> {
  let lineNo = 0;
  let sent = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === "") continue;
    const fields = fieldsFromLine(line, lineNo);
    try {
      await delivery.send((em) => em.emitFrame(fields));
    } catch (err) {
      if (!(err instanceof EmitValidationError)) throw err;
      throw new UserError(`stdin line ${lineNo}: ${err.message}${sent > 0 ? ` (${sent} earlier event${sent === 1 ? " was" : "s were"} sent)` : ""}`, EXIT_USAGE);
    }
    sent++;
  }
  return sent;
}
