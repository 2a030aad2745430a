import { defineCommand } from "citty";
import { colorEnabled, paint, type Paint } from "../cli/color.ts";
import { cliCommand } from "../cli/command.ts";
import { EXIT_FAILURE, EXIT_OK } from "../errors.ts";
import { KeyFileError, loadPublicKey } from "../keys/key-files.ts";
import { ReceiptReader } from "../query/reader.ts";
import { pathArgs, publicKeyArg } from "../read-cli/args.ts";
import { Output, stdoutIsTerminal, untilOutputCloses } from "../read-cli/output.ts";
import { readerFiles, type ReaderFiles } from "../read-cli/paths.ts";
import { checkShown, type Finding, type KeyState, type ShowChecks } from "../read-cli/receipt-checks.ts";
import { parseRef, resolveRef } from "../read-cli/receipt-ref.ts";

/** The key to check signatures with: a missing default key is a note (the receipt is still shown), a bad --public-key an error. */
function keyState(files: ReaderFiles): KeyState {
  try {
    const k = loadPublicKey(files.publicKey);
    return { key: k.publicKey, fingerprint: k.fingerprint, path: files.publicKey };
  } catch (err) {
    if (files.publicKeyExplicit || !(err instanceof KeyFileError)) throw err;
    return { problem: err.message };
  }
}

function render(c: ShowChecks, json: string, p: Paint): string {
  const mark = (f: Finding) => (f.verdict === "bad" ? p.bold(f.text) : f.verdict === "unchecked" ? p.dim(f.text) : f.text);
  const lines = [
    `${p.bold("position ")}  ${c.position}`,
    `${p.bold("signature")}  ${mark(c.signature)}`,
    `${p.bold("link     ")}  ${mark(c.link)}`,
    ...c.notes.map((n) => `${p.bold("note     ")}  ${n}`),
  ];
  let pretty: string;
  try {
    pretty = JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    pretty = json;
  }
  return `${lines.join("\n")}\n${pretty}\n`;
}

export const showCommand = cliCommand(defineCommand({
  meta: {
    name: "show",
    description:
      "Show one receipt, pretty-printed, under what a verifier says of it: its signature under the public key, its link to the " +
      "previous receipt, its position in the chain, and what an events_dropped or terminator receipt means.",
  },
  args: {
    ref: { type: "positional", required: true, description: "A receipt id (urn:receipt:<uuid>), a sequence number in the newest chain, or CHAIN:SEQ", valueHint: "REF" },
    ...pathArgs,
    ...publicKeyArg,
    json: { type: "boolean", description: "Print only the stored receipt text, unchanged" },
  },
  async run({ args, rawArgs }) {
    const ref = parseRef(args.ref);
    const files = readerFiles(args);
    const key = keyState(files);
    await untilOutputCloses(() => {
      const reader = new ReceiptReader(files.db);
      try {
        const receipt = resolveRef(reader, ref, files.db);
        const checks = checkShown(reader, receipt, reader.chain(receipt.chainId), key);
        const colors = paint(colorEnabled({ isTTY: stdoutIsTerminal(), env: process.env, noColorFlag: rawArgs.includes("--no-color") }));
        const out = new Output();
        out.write(args.json ? `${receipt.json}\n` : render(checks, receipt.json, colors));
        out.flush();
        process.exitCode = checks.signature.verdict === "bad" || checks.link.verdict === "bad" ? EXIT_FAILURE : EXIT_OK;
      } finally {
        reader.close();
      }
    });
  },
}), {
  footer:
    "Examples: agent-receipts show 42; agent-receipts show 2026-11-28:42; agent-receipts show urn:receipt:5d0c6a1e-8f3b-4c7a-9e21-3b6f0d4a7c11 --json. " +
    "Exit 0 the receipt verifies (or no key to check it with), 1 its signature or its link is broken, 2 unknown receipt or usage.",
});
