// The socket side of the daemon: accepts connections, attests peers, decodes
// and validates frames, hands events to the chain writer, and closes
// half-closed connections once their events are committed.
import type { Socket } from "bun";
import { validateFrame } from "../protocol/frame-schema.ts";
import { FramingError } from "../protocol/framing.ts";
import type { PeerCredential } from "../receipt/types.ts";
import type { AccessPolicy } from "./access/policy.ts";
import { RefusalLog } from "./access/refusal-log.ts";
import { PeerConnection } from "./peer-connection.ts";
import type { Logger } from "./log.ts";
import type { PeerCredReader } from "./peercred/index.ts";
import type { WriterClient } from "./writer/client.ts";
import { PausableListener } from "./listener.ts";
import { connectionLimit, DescriptorGuard } from "./descriptor-guard.ts";
import { PartialBudget } from "./partial-budget.ts";
import { PeerLog } from "./log-throttle.ts";
import { descriptorLimit, descriptorsInUse } from "../os/fd-limit.ts";

/** A forced collection this long after the last partial frame was dropped. */
const RECLAIM_QUIET_MS = 50;

/** Pause reading from clients while this many events wait for the writer. */
const QUEUE_HIGH_WATER = 8192;
const QUEUE_LOW_WATER = 2048;

const utf8 = new TextDecoder("utf-8", { fatal: true });
/** ASCII NAK: the only byte the daemon ever writes, just before a close that is not a confirmation. */
const NOT_CONFIRMED = new Uint8Array([0x15]);

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

export interface ReceiverLimits {
  /** Bytes held for incomplete frames across all connections. */
  maxBufferedBytes: number;
}

type PeerSocket = Socket<PeerConnection | undefined>;

export class Receiver {
  private listener: PausableListener<PeerConnection | undefined> | null = null;
  private guard: DescriptorGuard | null = null;
  /** Accepted sockets not yet closed, attested or not: each holds a descriptor. */
  private sockets = 0;
  private readonly budget: PartialBudget<PeerSocket>;
  /** Lines any peer can cause go through here (rate-limited). */
  private readonly peerLog: PeerLog;
  /** Connections closed because the partial frames of all connections took more than maxBufferedBytes. */
  overBudgetClosed = 0;
  /** Attested connections; each socket carries its PeerConnection in `data`. */
  private readonly open = new Set<Socket<PeerConnection | undefined>>();
  private readonly awaitingClose = new Set<Socket<PeerConnection | undefined>>();
  private nextConnId = 0;
  private nextEventNo = 0;
  private paused = false;
  /** Cleared at shutdown: what arrives later is left unread, and its sender unconfirmed. */
  private reading = true;
  lastDataAt = 0;
  readonly stats: ReceiverStats = { connections: 0, frames: 0, rejectedFrames: 0, framingErrors: 0, credentialFailures: 0, refusedConnections: 0 };
  private readonly refusals = new RefusalLog();

  constructor(
    private readonly writer: WriterClient,
    private readonly peers: PeerCredReader,
    private readonly access: AccessPolicy,
    private readonly log: Logger,
    limits: ReceiverLimits,
  ) {
    this.budget = new PartialBudget(limits.maxBufferedBytes);
    this.peerLog = new PeerLog(log);
  }

  /** Listens at `path`; `prepare` sets mode and group of each newly bound socket before it is in place. */
  listen(path: string, prepare: (boundPath: string) => void): void {
    const listener = new PausableListener<PeerConnection | undefined>(path, {
      open: (s) => this.onOpen(s),
      data: (s, chunk) => this.onData(s, chunk),
      end: (s) => this.onEnd(s),
      close: (s) => this.onClose(s),
      error: (s, err) => this.peerLog.warn(s, "connection_error", { conn: s.data?.id, error: err.message }),
    }, prepare);
    const fdLimit = descriptorLimit();
    const inUse = descriptorsInUse();
    listener.start();
    this.listener = listener;
    this.guard = new DescriptorGuard(listener, this.log, () => this.sockets, connectionLimit(fdLimit, inUse), fdLimit);
  }

  /** Connections this daemon accepts at most at once (below its descriptor limit). */
  get maxConnections(): number | undefined {
    const max = this.guard?.maxConnections;
    return max === undefined || !Number.isFinite(max) ? undefined : max;
  }

  private onOpen(s: Socket<PeerConnection | undefined>): void {
    this.sockets++;
    this.guard?.opened();
    const id = ++this.nextConnId;
    let conn: PeerConnection;
    try {
      const fd = socketFd(s);
      const capture = this.peers.capture(fd);
      if (capture.outOfDescriptors) this.guard?.outOfDescriptors();
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
      if (capture.exeNote !== undefined) this.peerLog.warn(s, "peer_exe_unknown", { conn: id, pid: capture.credential.pid, reason: capture.exeNote });
    } catch (err) {
      this.stats.credentialFailures++;
      this.peerLog.error(s, "peer_credentials_failed", { conn: id, error: (err as Error).message });
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
    if (!this.reading) {
      conn.unread = true;
      return;
    }
    this.lastDataAt = performance.now();
    const { frames, error } = conn.decoder.feed(chunk);
    for (const body of frames) this.onFrame(conn, body);
    if (error !== null) {
      this.framingError(s, conn, error);
      return;
    }
    for (const victim of this.budget.set(s, conn.decoder.reserved)) this.closeOverBudget(victim);
    if (this.writer.queued >= QUEUE_HIGH_WATER) this.pauseAll();
  }

  /** Frees the memory of the largest partial frames: their connections are closed, never the daemon. */
  private closeOverBudget(s: PeerSocket): void {
    const conn = s.data!;
    this.overBudgetClosed++;
    this.peerLog.warn(s, "partial_frame_dropped", {
      conn: conn.id, pid: conn.peer.credential.pid, uid: conn.peer.credential.uid, bytes: conn.decoder.reserved,
      buffered_total: this.budget.total, max_buffered_bytes: this.budget.limit,
      note: "incomplete frames of all connections took more than max_buffered_bytes: the connections holding the largest were closed",
    });
    this.forget(s);
    s.terminate();
    this.reclaimSoon();
  }

  private reclaimTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * Returns the dropped frames' memory once a burst of drops is over: under a
   * flood of partial frames the garbage would otherwise grow with the number
   * of connections until the collector's own schedule.
   */
  private reclaimSoon(): void {
    if (this.reclaimTimer !== null) clearTimeout(this.reclaimTimer);
    this.reclaimTimer = setTimeout(() => {
      this.reclaimTimer = null;
      Bun.gc(true);
    }, RECLAIM_QUIET_MS);
    this.reclaimTimer.unref();
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
    this.peerLog.warn(conn, "frame_rejected", { conn: conn.id, pid: conn.peer.credential.pid, field, rule });
  }

  private framingError(s: Socket<PeerConnection | undefined>, conn: PeerConnection, err: FramingError): void {
    this.stats.framingErrors++;
    this.peerLog.warn(conn, "framing_error", { conn: conn.id, pid: conn.peer.credential.pid, kind: err.kind, error: err.message });
    this.forget(s);
    s.terminate();
  }

  private onEnd(s: Socket<PeerConnection | undefined>): void {
    const conn = s.data;
    // After shutdown began, closeAll() decides whether the close confirms.
    if (conn === undefined || !this.reading) return;
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
    this.sockets--;
    this.guard?.closed();
  }

  private forget(s: Socket<PeerConnection | undefined>): void {
    this.open.delete(s);
    this.awaitingClose.delete(s);
    this.budget.delete(s);
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
    this.guard?.stop();
    this.listener?.stop();
    this.peerLog.stop();
  }

  /** Stops reading from every connection (shutdown); returns how many partial frames are dropped. */
  stopReading(): number {
    this.reading = false;
    let partial = 0;
    for (const s of this.open) {
      if (s.data!.decoder.buffered > 0) partial++;
      s.pause();
    }
    return partial;
  }

  /**
   * Closes every connection once the writer is done. End of stream is the
   * emitter's confirmation (docs/protocol.md §2.4), so a connection with an
   * event not committed, a dropped partial frame or unread bytes first gets
   * one NAK byte: a close that does not confirm. Returns how many got it.
   */
  closeAll(committedThrough: number): number {
    let unconfirmed = 0;
    for (const s of this.open) {
      const conn = s.data!;
      if (conn.lastEventNo > committedThrough || conn.decoder.buffered > 0 || conn.unread) {
        unconfirmed++;
        s.write(NOT_CONFIRMED);
      }
      s.end();
    }
    this.open.clear();
    this.awaitingClose.clear();
    return unconfirmed;
  }
}
