// The `anchors` config values: "file:PATH", "syslog" (or "syslog:SOCKET"),
// "witness:URL VKEY". Checked when the configuration is read, so a typo stops
// the daemon at start with the value named, not at the first checkpoint.
import { isAbsolute, resolve } from "node:path";
import { parseWitnessAnchorSpec } from "./witness.ts";

export type AnchorSpec =
  | { kind: "file"; path: string }
  | { kind: "syslog"; socket: string | undefined }
  | { kind: "witness"; url: string; vkey: string };

export class AnchorSpecError extends Error {}

const FORMS = '"file:PATH", "syslog" or "witness:URL VKEY"';

/** Parses one anchor; a relative file path is resolved against `baseDir` (the config file's directory). */
export function parseAnchorSpec(value: unknown, baseDir: string | undefined): AnchorSpec {
  if (typeof value !== "string" || value.trim() === "") throw new AnchorSpecError(`an anchor is a string: ${FORMS}`);
  const text = value.trim();
  if (text === "syslog") return { kind: "syslog", socket: undefined };
  if (text.startsWith("syslog:")) {
    const socket = text.slice("syslog:".length);
    if (!isAbsolute(socket)) throw new AnchorSpecError(`anchor ${JSON.stringify(text)}: the syslog socket must be an absolute path (e.g. syslog:/dev/log), or write just "syslog"`);
    return { kind: "syslog", socket };
  }
  if (text.startsWith("file:")) {
    const path = text.slice("file:".length);
    if (path === "" || path.includes("\0")) throw new AnchorSpecError(`anchor ${JSON.stringify(text)} names no file: write "file:/var/log/agent-receipts/checkpoints"`);
    return { kind: "file", path: isAbsolute(path) || baseDir === undefined ? resolve(path) : resolve(baseDir, path) };
  }
  if (text.startsWith("witness:")) {
    try {
      return { kind: "witness", ...parseWitnessAnchorSpec(text.slice("witness:".length)) };
    } catch (err) {
      throw new AnchorSpecError((err as Error).message);
    }
  }
  throw new AnchorSpecError(`unknown anchor ${JSON.stringify(text.slice(0, 80))}: write ${FORMS}`);
}

/** How an anchor is named in the log and in stored cosignatures. */
export function anchorName(spec: AnchorSpec): string {
  switch (spec.kind) {
    case "file":
      return `file:${spec.path}`;
    case "syslog":
      return spec.socket === undefined ? "syslog" : `syslog:${spec.socket}`;
    case "witness":
      return `witness:${spec.url}`;
  }
}
