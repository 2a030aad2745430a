// The `syslog` anchor: one line per checkpoint in the system log (the
// journal on systemd, which journald's Forward Secure Sealing can seal), tag
// agent-receipts, through the system's logger(1). The line carries the whole
// signed note in base64, so the checkpoint can be taken back out exactly:
//   checkpoint origin=<origin> size=<n> root=<base64> note=<base64 of the note>
import { encodeBase64 } from "../../tlog/note.ts";
import type { Anchor, AnchorCheckpoint } from "./anchor.ts";

export const SYSLOG_TAG = "agent-receipts";

export function syslogLine(c: AnchorCheckpoint): string {
  const origin = c.note.slice(0, c.note.indexOf("\n"));
  return `checkpoint origin=${origin} size=${c.size} root=${encodeBase64(c.root)} note=${Buffer.from(c.note, "utf8").toString("base64")}`;
}

export class SyslogAnchor implements Anchor {
  readonly name: string;

  /** `socket`: a syslog socket other than the system's (util-linux logger -u). */
  constructor(private readonly socket: string | undefined, private readonly platform: NodeJS.Platform = process.platform) {
    this.name = socket === undefined ? "syslog" : `syslog:${socket}`;
  }

  private argv(line: string): string[] {
    // BSD logger (macOS) knows -t and -p only.
    if (this.platform === "darwin") return ["logger", "-t", SYSLOG_TAG, "-p", "user.notice", "--", line];
    const socket = this.socket === undefined ? [] : ["-u", this.socket];
    return ["logger", "-t", SYSLOG_TAG, `--id=${process.pid}`, "-p", "user.notice", ...socket, "--socket-errors=on", "--", line];
  }

  async publish(checkpoint: AnchorCheckpoint): Promise<{ cosignatures?: string[] }> {
    let proc;
    try {
      proc = Bun.spawn(this.argv(syslogLine(checkpoint)), { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    } catch (err) {
      throw new Error(`cannot run logger(1): ${(err as Error).message}`);
    }
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    if (code !== 0) throw new Error(`logger exited with ${code}: ${stderr.trim().split("\n")[0] ?? ""}`);
    return {};
  }
}
