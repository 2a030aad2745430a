// The witness's decisions for add-checkpoint, in the order and with the
// status codes C2SP tlog-witness prescribes: 400 malformed, 404 unknown
// origin, 403 no valid log signature, 409 old size is not the cosigned size,
// 422 bad root or proof; else it persists the checkpoint and returns a
// timestamped cosignature. Check and update run in one transaction.
import { parseCheckpoint, type Checkpoint } from "../tlog/checkpoint.ts";
import type { CosignatureSigner } from "../tlog/cosignature.ts";
import { consistencyProblem, EMPTY_ROOT } from "../tlog/merkle.ts";
import { formatSignatureLine, openNote, parseNote, type NoteSignature, type NoteVerifier } from "../tlog/note.ts";
import type { TrustedLogs } from "./logs.ts";
import { parseAddCheckpoint, type AddCheckpointRequest } from "./request.ts";
import type { WitnessState } from "./state.ts";

const TEXT = "text/plain; charset=utf-8";
/** The media type tlog-witness requires for a 409's body. */
export const SIZE_CONTENT_TYPE = "text/x.tlog.size";

export interface WitnessReply {
  status: number;
  body: string;
  contentType: string;
  /** What happened, for the witness's own log line. */
  summary: About & { reason: string };
}

type About = { origin?: string; old_size?: number; size?: number };

export interface WitnessOptions {
  state: WitnessState;
  logs: TrustedLogs;
  signer: CosignatureSigner;
  /** POSIX seconds; injectable for tests of the clock going backwards. */
  now?: () => number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

function refuse(status: number, reason: string, summary: About = {}): WitnessReply {
  return { status, body: `${reason}\n`, contentType: TEXT, summary: { ...summary, reason } };
}

function isKnown(sig: NoteSignature, verifiers: readonly NoteVerifier[]): boolean {
  return verifiers.some((v) => v.name === sig.name && sameBytes(v.keyId, sig.keyId));
}

export class Witness {
  private readonly now: () => number;

  constructor(private readonly options: WitnessOptions) {
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  addCheckpoint(body: string): WitnessReply {
    let request: AddCheckpointRequest;
    let text: string;
    let checkpoint: Checkpoint;
    try {
      request = parseAddCheckpoint(body);
      text = parseNote(request.note).text;
      checkpoint = parseCheckpoint(text);
    } catch (err) {
      // BadRequestError, NoteError or the checkpoint parser's error: all say what is malformed.
      if (err instanceof Error) return refuse(400, `bad request: ${err.message}`);
      throw err;
    }
    const about = { origin: checkpoint.origin, old_size: request.oldSize, size: checkpoint.size };
    const verifiers = this.options.logs.get(checkpoint.origin);
    if (verifiers === undefined) return refuse(404, `unknown log origin ${JSON.stringify(checkpoint.origin)}: this witness is not configured for it`, about);
    let signatures: NoteSignature[];
    try {
      signatures = openNote(request.note, verifiers).signatures;
    } catch (err) {
      return refuse(403, `checkpoint not signed by a trusted key of ${checkpoint.origin}: ${(err as Error).message}`, about);
    }
    if (request.oldSize > checkpoint.size) return refuse(400, `old size ${request.oldSize} is larger than the checkpoint size ${checkpoint.size}`, about);
    const logLines = signatures.filter((s) => isKnown(s, verifiers)).map((s) => formatSignatureLine(s.name, s.keyId, s.signature)).join("");
    return this.options.state.atomically(() => this.decide(request, text, checkpoint, logLines, about));
  }

  /** Runs inside the state transaction. */
  private decide(request: AddCheckpointRequest, text: string, checkpoint: Checkpoint, logLines: string, about: About): WitnessReply {
    const { state, signer } = this.options;
    const latest = state.latest(checkpoint.origin);
    const cosignedSize = latest?.size ?? 0;
    if (request.oldSize !== cosignedSize) {
      return { status: 409, body: `${cosignedSize}\n`, contentType: SIZE_CONTENT_TYPE, summary: { ...about, reason: `old size ${request.oldSize} is not the cosigned size ${cosignedSize}` } };
    }
    const unprocessable = (reason: string): WitnessReply => {
      // The log signed it, so it is evidence of misbehaviour: kept, never cosigned.
      state.recordRefusal({ origin: checkpoint.origin, oldSize: request.oldSize, size: checkpoint.size, root: checkpoint.root, status: 422, reason, note: request.note, at: this.now() });
      return refuse(422, reason, about);
    };
    if (checkpoint.size === 0 && !sameBytes(checkpoint.root, EMPTY_ROOT)) return unprocessable("a checkpoint of size 0 must have the empty tree's root");
    if (request.oldSize === 0 && request.proof.length > 0) return unprocessable("old size 0 takes no consistency proof");
    if (latest !== undefined && request.oldSize === checkpoint.size) {
      if (!sameBytes(latest.root, checkpoint.root)) {
        return unprocessable(`fork: size ${checkpoint.size} was cosigned with root ${b64(latest.root)}, this checkpoint has root ${b64(checkpoint.root)}`);
      }
      if (request.proof.length > 0) return unprocessable("old size equals the checkpoint size, so the consistency proof must be empty");
    } else if (latest !== undefined && request.oldSize > 0) {
      const problem = consistencyProblem(request.oldSize, checkpoint.size, request.proof, latest.root, checkpoint.root);
      if (problem !== null) {
        return unprocessable(`consistency proof from size ${request.oldSize} (root ${b64(latest.root)}) to size ${checkpoint.size} (root ${b64(checkpoint.root)}) does not verify: ${problem}`);
      }
    }
    // Never earlier than the previous cosignature: a clock set back must not make a newer statement look older.
    const time = Math.max(this.now(), latest?.cosignedAt ?? 0, 1);
    const line = signer.cosign(text, time);
    state.record({ origin: checkpoint.origin, size: checkpoint.size, root: checkpoint.root, note: `${text}\n${logLines}${line}`, cosignedAt: time });
    return { status: 200, body: line, contentType: TEXT, summary: { ...about, reason: "cosigned" } };
  }

  /** The monitoring API: the latest cosigned checkpoint for a log, by the hex SHA-256 of its origin. */
  checkpoint(originHash: string): WitnessReply {
    const latest = this.options.state.latestByOriginHash(originHash);
    if (latest === undefined) return refuse(404, "this witness has not cosigned a checkpoint for that log");
    return { status: 200, body: latest.note, contentType: TEXT, summary: { origin: latest.origin, size: latest.size, reason: "served" } };
  }
}
