// tests/fixtures/vectors/emit_failure_vectors.json: every case runs against this
// SDK's emitter (default mode, no listener on the socket); an unknown case name
// fails the test, so a new case cannot be skipped silently.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Emitter, EmitTransportError, EmitValidationError, type EmitEvent } from "../../src/emitter/index.ts";
import { tempDir, VECTORS } from "../helpers/fixtures.ts";

type Outcome = "transport_error" | "caller_error" | "success";
interface Case {
  name: string;
  expect: Outcome;
}

const WELL_FORMED: EmitEvent = { tool: { name: "read_file" }, decision: "allowed", input: { path: "/tmp/x" } };

/** What each known case emits. */
const ACTIONS: Record<string, EmitEvent> = {
  dial_failure_unreachable_socket: WELL_FORMED,
  caller_bug_invalid_decision: { ...WELL_FORMED, decision: "definitely" as EmitEvent["decision"] },
};

/**
 * Maps an emit outcome to the vectors' categories. Default mode resolves false
 * on a transport failure (the TS form of "a returned Error tagged as
 * transport"); strict mode's EmitTransportError is the same category.
 */
async function outcomeOf(emit: Promise<boolean>): Promise<Outcome> {
  try {
    return (await emit) ? "success" : "transport_error";
  } catch (err) {
    if (err instanceof EmitValidationError) return "caller_error";
    if (err instanceof EmitTransportError) return "transport_error";
    throw err;
  }
}

const vectors = JSON.parse(readFileSync(join(VECTORS, "emit_failure_vectors.json"), "utf8")) as { cases: Case[] };

test("the vector file has cases", () => {
  expect(vectors.cases.length).toBeGreaterThan(0);
});

for (const c of vectors.cases) {
  test(`emit_failure_vectors: ${c.name}`, async () => {
    const event = ACTIONS[c.name];
    if (event === undefined) throw new Error(`unknown emit failure case "${c.name}": implement it in ${import.meta.file}`);
    const socketPath = join(tempDir("ar-vec-"), "no-listener.sock");
    for (const strict of [false, true]) {
      const em = new Emitter({ channel: "sdk", socketPath, strict });
      expect(await outcomeOf(em.emit(event))).toBe(c.expect);
      // Caller bugs are distinguishable from transport errors: only the latter count as drops.
      expect(em.dropped).toBe(c.expect === "transport_error" ? 1 : 0);
      await em.close();
    }
  });
}
