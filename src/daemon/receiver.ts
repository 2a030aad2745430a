// The socket side of the daemon: accepts connections, attests peers, decodes
// and validates frames, hands events to the chain writer, and closes
// half-closed connections once their events are committed.
import type { Socket, UnixSocketListener } from "bun";
import { validateFrame } from "../protocol/frame-schema.ts";
import { FramingError } from "../protocol/framing.ts";
import type { PeerCredential } from "../receipt/types.ts";
import type { AccessPolicy } from "./access/policy.ts";
import { RefusalLog } from "./access/refusal-log.ts";
import { PeerConnection } from "./peer-connection.ts";
import type { Logger } from "./log.ts";
import type { PeerCredReader } from "./peercred/index.ts";
import type { WriterClient } from "./writer/client.ts";

/** Pause reading from clients while this many events wait for the writer. */
const QUEUE_HIGH_WATER = 8192;
const QUEUE_LOW_WATER = 2048;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Bun exposes the accepted socket's descriptor as `fd` (not yet in its type declarations). */
function socketFd(s: Socket<PeerConnection | undefined>): number {
  const fd = (s as unknown as { fd?: unknown }).fd;
  if (typeof fd !== "number" || fd < 0) throw new Error("socket has no file descriptor");
  return fd;
}

export interface ReceiverStats {
  connections: number;
  frames: number;
  rejectedFrames: number;
  framingErrors: number;
  credentialFailures: number;
  refusedConnections: number;
}

export class Receiver {
  private listener: UnixSocketListener<PeerConnection | undefined> | null = null;
  /** Attested connections; each socket carries its PeerConnection in `data`. */
  private readonly open = new Set<Socket<PeerConnection | undefined>>();
  private readonly awaitingClose = new Set<Socket<PeerConnection | undefined>>();
  private nextConnId = 0;
  private nextEventNo = 0;
  private paused = false;
  lastDataAt = 0;
  readonly stats: ReceiverStats = { connections: 0, frames: 0, rejectedFrames: 0, framingErrors: 0, credentialFailures: 0, refusedConnections: 0 };
  private readonly refusals = new RefusalLog();

  constructor(
    private readonly writer: WriterClient,
    private readonly peers: PeerCredReader,
    private readonly access: AccessPolicy,
    private readonly log: Logger,
  ) {}

  listen(path: string): void {
    this.listener = Bun.listen<PeerConnection | undefined>({
      unix: path,
      allowHalfOpen: true,
      socket: {
        open: (s) => this.onOpen(s),
        data: (s, chunk) => this.onData(s, chunk),
        end: (s) => this.onEnd(s),
        close: (s) => this.onClose(s),
        error: (s, err) => this.log.warn("connection_error", { conn: s.data?.id, error: err.message }),
      },
    });
  }

  private onOpen(s: Socket<PeerConnection | undefined>): void {
    const id = ++this.nextConnId;
    let conn: PeerConnection;
    try {
      const fd = socketFd(s);
      const capture = this.peers.capture(fd);
      // Refused before a single byte is read: the connection never gets a PeerConnection.
      const decision = this.access.decide(capture.credential, () => this.peers.groups(fd));
      if (!decision.allowed) {
        this.refuse(capture.credential, decision.reason);
        s.terminate();
        return;
      }
      const login = this.peers.loginOf(capture.credential.uid);
      conn = new PeerConnection(id, login === undefined ? { credential: capture.credential } : { credential: capture.credential, login });
      for (const note of this.peers.notes()) this.log.warn("peer_credentials", { note });
      if (capture.exeNote !== undefined) this.log.warn("peer_exe_unknown", { conn: id, pid: capture.credential.pid, reason: capture.exeNote });
    } catch (err) {
      this.stats.credentialFailures++;
      this.log.error("peer_credentials_failed", { conn: id, error: (err as Error).message });
      s.terminate();
      return;
    }
    this.stats.connections++;
    s.data = conn;
    this.open.add(s);
    if (this.paused) s.pause();
  }

  private refuse(peer: PeerCredential, reason: string): void {
    this.stats.refusedConnections++;
    const suppressed = this.refusals.shouldLog(peer.uid);
    if (suppressed === null) return;
    this.log.warn("connection_refused", {
      uid: peer.uid, gid: peer.gid, pid: peer.pid, exe_path: peer.exe_path, reason,
      fix: "add the uid to allow_uids or the user to a group in allow_groups (a config change needs a daemon restart; a user added to a group must log in again)",
      suppressed_since_last: suppressed > 0 ? suppressed : undefined,
    });
  }

  private onData(s: Socket<PeerConnection | undefined>, chunk: Buffer): void {
    const conn = s.data;
    if (conn === undefined) return;
    this.lastDataAt = performance.now();
    const { frames, error } = conn.decoder.feed(chunk);
    for (const body of frames) this.onFrame(conn, body);
    if (error !== null) {
      this.framingError(s, conn, error);
      return;
    }
    if (this.writer.queued >= QUEUE_HIGH_WATER) this.pauseAll();
  }

  private onFrame(conn: PeerConnection, body: Buffer): void {
    this.stats.frames++;
    let value: unknown;
    try {
      value = JSON.parse(utf8.decode(body));
    } catch {
      // The parser's message can quote payload bytes: never log it.
      this.rejectFrame(conn, "(frame)", "must be a UTF-8 JSON object");
      return;
    }
    const check = validateFrame(value);
    if (!check.ok) {
      this.rejectFrame(conn, check.problem.field, check.problem.rule);
      return;
    }
    const no = ++this.nextEventNo;
    conn.lastEventNo = no;
    this.writer.submit({ no, frame: check.frame, peer: conn.peer });
  }

  private rejectFrame(conn: PeerConnection, field: string, rule: string): void {
    this.stats.rejectedFrames++;
    this.log.warn("frame_rejected", { conn: conn.id, pid: conn.peer.credential.pid, field, rule });
  }

  private framingError(s: Socket<PeerConnection | undefined>, conn: PeerConnection, err: FramingError): void {
    this.stats.framingErrors++;
    this.log.warn("framing_error", { conn: conn.id, pid: conn.peer.credential.pid, kind: err.kind, error: err.message });
    this.forget(s);
    s.terminate();
  }

  private onEnd(s: Socket<PeerConnection | undefined>): void {
    const conn = s.data;
    if (conn === undefined) return;
    const truncated = conn.decoder.finish();
    if (truncated !== null) {
      this.framingError(s, conn, truncated);
      return;
    }
    this.awaitingClose.add(s);
    this.closeCommitted();
  }

  private onClose(s: Socket<PeerConnection | undefined>): void {
    this.forget(s);
  }

  private forget(s: Socket<PeerConnection | undefined>): void {
    this.open.delete(s);
    this.awaitingClose.delete(s);
  }

  /** Called after each commit: closes half-closed connections whose events are all committed. */
  onCommitted(throughNo: number): void {
    this.closeCommitted(throughNo);
    if (this.paused && this.writer.queued <= QUEUE_LOW_WATER) this.resumeAll();
  }

  private closeCommitted(throughNo = this.writer.committedThrough): void {
    for (const s of this.awaitingClose) {
      if (s.data!.lastEventNo <= throughNo) {
        this.awaitingClose.delete(s);
        s.end();
      }
    }
  }

  private pauseAll(): void {
    this.paused = true;
    this.log.warn("backpressure", { queued: this.writer.queued, note: "pausing reads until the writer catches up" });
    for (const s of this.open) s.pause();
  }

  private resumeAll(): void {
    this.paused = false;
    for (const s of this.open) s.resume();
  }

  /** Stops accepting new connections. */
  stopAccepting(): void {
    this.listener?.stop(false);
  }

  /** Closes every connection; a partial frame in a buffer is dropped (it was never complete). */
  closeAll(): number {
    let partial = 0;
    for (const s of this.open) {
      if (s.data!.decoder.buffered > 0) partial++;
      s.terminate();
    }
    this.open.clear();
    this.awaitingClose.clear();
    return partial;
  }
}
