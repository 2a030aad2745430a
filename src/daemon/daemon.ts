// The daemon's life: checks and identity at start, the writer thread, the
// socket, and a bounded, draining shutdown on SIGTERM/SIGINT.
import { unlinkSync, existsSync, realpathSync } from "node:fs";
import { currentPlatform } from "../paths/resolve.ts";
import { dateChainId } from "./pipeline/chain-id.ts";
import { checkDbFiles } from "../os/files.ts";
import { VERSION } from "../version.ts";
import type { DaemonConfig } from "./config.ts";
import type { Logger } from "./log.ts";
import { createPeerCredReader } from "./peercred/index.ts";
import { Receiver } from "./receiver.ts";
import { AccessPolicy } from "./access/policy.ts";
import { resolveAccessLists, resolveGid } from "./access/resolve.ts";
import { checkSocketDir, checkSocketPath, grantSocketAccess, prepareSocketPath, safeRoots } from "./socket-path.ts";
import { secureDataDirs } from "../os/dirs.ts";
import { DEFAULT_MAX_AGENT_CHAINS, defaultMaxBufferedBytes } from "./limits.ts";
import { WriterClient } from "./writer/client.ts";
import { acquireWriterLock } from "../store/writer-lock.ts";
import { statusFilePath, STATUS_FILE_FORMAT } from "../status/status-file.ts";
import { StatusPublisher } from "./status-publisher.ts";
import { LogPublication } from "./log-publication.ts";

const GRACE_MAX_MS = 500;
const GRACE_QUIET_MS = 50;
const DRAIN_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 5_000;
const UNSAFE_WARNING_INTERVAL_MS = 60_000;

export interface DaemonOptions {
  config: DaemonConfig;
  log: Logger;
  now?: Date;
}

/** Runs until SIGTERM/SIGINT; resolves with the process exit code. */
export async function runDaemon({ config, log, now = new Date() }: DaemonOptions): Promise<number> {
  // Handlers first and for the whole run: a SIGTERM sent the moment the daemon
  // says it listens (measured: under load Bun can still be installing a handler
  // registered then) must stop it cleanly, and later ones must not kill the shutdown.
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    process.on("SIGTERM", () => resolve("SIGTERM"));
    process.on("SIGINT", () => resolve("SIGINT"));
  });
  process.umask(0o027);
  const platform = currentPlatform();
  const socket = checkSocketPath(config.socket, config.unsafe_socket_path, process.env, platform);
  const uid = process.getuid?.() ?? 0;
  checkDbFiles(config.db);
  checkSocketDir(socket.path, uid);
  for (const t of secureDataDirs([config.db, config.key, config.public_key], uid)) log.warn("directory_tightened", { ...t });
  const lists = resolveAccessLists(config.allow_uids, config.allow_groups);
  const access = new AccessPolicy(lists, process.getuid?.() ?? 0);
  const socketGid = config.socket_group === undefined ? undefined : resolveGid(config.socket_group, "socket_group");
  // Refuse (another daemon, a non-socket file) before creating anything, such as a key.
  const protectedDirs = safeRoots(process.env, platform).filter(existsSync).map((p) => realpathSync(p));
  await prepareSocketPath(socket.path, protectedDirs);
  // Held until the process exits (the kernel releases it however the process ends); before the key or database is touched.
  const dbLock = acquireWriterLock(config.db, socket.path);
  const peers = await createPeerCredReader();

  let receiver: Receiver | null = null;
  const writer = await WriterClient.start(
    {
      dbPath: config.db,
      keyPath: config.key,
      publicKeyPath: config.public_key,
      issuerId: config.issuer_id,
      verificationMethod: config.verification_method,
      chainIdBase: config.chain_id ?? dateChainId(now),
      maxAgentChains: config.max_agent_chains ?? DEFAULT_MAX_AGENT_CHAINS,
      tlog: config.transparency_log
        ? { origin: config.log_origin, every: config.checkpoint_every, intervalMs: Math.round(config.checkpoint_interval * 1000) }
        : null,
    },
    log,
    (through) => receiver?.onCommitted(through),
  );
  const publication = LogPublication.start(config, writer, log);
  receiver = new Receiver(writer, peers, access, log, { maxBufferedBytes: config.max_buffered_bytes ?? defaultMaxBufferedBytes() });
  log.info("started", {
    version: VERSION, pid: process.pid, socket: socket.path, db: config.db, key: config.key, public_key: config.public_key,
    fingerprint: writer.fingerprint, chain_id: writer.rootChainId, resumed_at_sequence: writer.resumedFrom,
    config: config.config_file, issuer_id: config.issuer_id,
    log_origin: writer.tlog?.origin, tree_size: writer.tlog?.size, checkpoint: publication?.checkpointPath,
    anchors: publication === null || publication.anchors.names.length === 0 ? undefined : publication.anchors.names.join(","),
  });
  receiver.listen(socket.path, (bound) => grantSocketAccess(bound, socketGid, protectedDirs, socket.path));
  log.info("access", { ...access.summary(), socket_group: socketGid });
  const status = new StatusPublisher(statusFilePath(socket.path), {
    format: STATUS_FILE_FORMAT, pid: process.pid, uid, version: VERSION, started_at: now.toISOString(),
    socket: socket.path, db: config.db, key: config.key, public_key: config.public_key,
    chain_id: writer.rootChainId, fingerprint: writer.fingerprint, config: config.config_file ?? null,
    allow_uids: [...lists.uids], allow_groups: [...lists.gids], socket_group: socketGid ?? null,
  }, socketGid, log, () => ({ log: publication === null ? null : publication.statusLog() }));
  if (publication !== null) publication.onStatusChange = () => status.refresh();
  status.start();
  let unsafeTimer: ReturnType<typeof setInterval> | undefined;
  if (socket.unsafe) {
    const warn = () => log.warn("unsafe_socket_path", { socket: socket.path, note: "outside the safe roots: other users may be able to replace this socket" });
    warn();
    unsafeTimer = setInterval(warn, UNSAFE_WARNING_INTERVAL_MS);
    unsafeTimer.unref();
  }
  log.info("listening", { socket: socket.path });

  const signal = await stopRequested;
  clearInterval(unsafeTimer);
  log.info("shutting_down", { signal });

  receiver.stopAccepting();
  // Let bytes already sent by clients arrive, bounded: quiet for GRACE_QUIET_MS or GRACE_MAX_MS in all.
  const graceStart = performance.now();
  while (performance.now() - graceStart < GRACE_MAX_MS && performance.now() - receiver.lastDataAt < GRACE_QUIET_MS) {
    await Bun.sleep(10);
  }
  const partial = receiver.stopReading();
  const drained = await writer.drain(DRAIN_TIMEOUT_MS);
  if (!drained) log.error("drain_timeout", { queued: writer.queued });
  const closed = await writer.close(CLOSE_TIMEOUT_MS, async () => publication?.drainAnchors());
  const anchored = await publication?.stop(log);
  // Connections close only now, so that each close confirms exactly what was committed.
  const lost = writer.queued;
  const unconfirmed = receiver.closeAll(writer.committedThrough);
  if (lost > 0) {
    log.error("events_not_committed", {
      events: lost, connections_not_confirmed: unconfirmed, last_error: writer.failing,
      note: "these events are not in the database; their emitters were told so (no confirmation)",
    });
  }
  if (closed.kind === "closed" && !closed.walFolded) {
    log.warn("wal_not_folded", { db: config.db, note: "a reader kept the checkpoint from completing: copy the database with agent-receipts backup, not cp" });
  }
  try {
    unlinkSync(socket.path);
  } catch {
    // already gone
  }
  status.stop();
  const ok = closed.kind === "closed" && drained && lost === 0;
  log.info("stopped", {
    receipts: writer.stats.receipts, events: writer.stats.events, rejected_events: writer.stats.rejected,
    frames: receiver.stats.frames, rejected_frames: receiver.stats.rejectedFrames, framing_errors: receiver.stats.framingErrors,
    connections: receiver.stats.connections, refused_connections: receiver.stats.refusedConnections, partial_frames_dropped: partial, commits: writer.stats.commits,
    commit_failures: writer.stats.commitFailures, events_not_committed: lost > 0 ? lost : undefined,
    checkpoints: publication === null ? undefined : writer.checkpoints, anchor_failures: anchored?.anchor_failures || undefined,
    terminators: closed.kind === "closed" ? closed.terminated.length : undefined,
    terminated: closed.kind === "closed" ? closed.terminated.join(",") : undefined,
    error: closed.kind === "close_failed" ? closed.message : closed.kind === "timeout" ? "writer did not close in time" : undefined,
  });
  dbLock.release();
  return ok ? 0 : 1;
}
