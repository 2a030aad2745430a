// Builds the configured anchors from their config strings.
import type { Anchor } from "./anchor.ts";
import { FileAnchor } from "./file.ts";
import { parseAnchorSpec } from "./spec.ts";
import { SyslogAnchor } from "./syslog.ts";
import { WitnessAnchor } from "./witness.ts";

export function createAnchor(text: string): Anchor {
  const spec = parseAnchorSpec(text, undefined);
  switch (spec.kind) {
    case "file":
      return new FileAnchor(spec.path);
    case "syslog":
      return new SyslogAnchor(spec.socket);
    case "witness":
      return new WitnessAnchor({ url: spec.url, vkey: spec.vkey });
  }
}
