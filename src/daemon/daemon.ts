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
import { checkSocketPath, grantSocketAccess, prepareSocketPath, safeRoots } from "./socket-path.ts";
import { WriterClient } from "./writer/client.ts";

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
  process.umask(0o027);
  const platform = currentPlatform();
  const socket = checkSocketPath(config.socket, config.unsafe_socket_path, process.env, platform);
  checkDbFiles(config.db);
  const access = new AccessPolicy(resolveAccessLists(config.allow_uids, config.allow_groups), process.getuid?.() ?? 0);
  const socketGid = config.socket_group === undefined ? undefined : resolveGid(config.socket_group, "socket_group");
  // Refuse (another daemon, a non-socket file) before creating anything, such as a key.
  const protectedDirs = safeRoots(process.env, platform).filter(existsSync).map((p) => realpathSync(p));
  await prepareSocketPath(socket.path, protectedDirs);
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
    },
    log,
    (through) => receiver?.onCommitted(through),
  );
  receiver = new Receiver(writer, peers, access, log);
  log.info("started", {
    version: VERSION, pid: process.pid, socket: socket.path, db: config.db, key: config.key, public_key: config.public_key,
    fingerprint: writer.fingerprint, chain_id: writer.rootChainId, resumed_at_sequence: writer.resumedFrom,
    config: config.config_file, issuer_id: config.issuer_id,
  });
  receiver.listen(socket.path);
  grantSocketAccess(socket.path, socketGid, protectedDirs);
  log.info("access", { ...access.summary(), socket_group: socketGid });
  let unsafeTimer: ReturnType<typeof setInterval> | undefined;
  if (socket.unsafe) {
    const warn = () => log.warn("unsafe_socket_path", { socket: socket.path, note: "outside the safe roots: other users may be able to replace this socket" });
    warn();
    unsafeTimer = setInterval(warn, UNSAFE_WARNING_INTERVAL_MS);
    unsafeTimer.unref();
  }
  log.info("listening", { socket: socket.path });

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  // Further signals during the bounded shutdown are ignored rather than killing it halfway.
  process.on("SIGTERM", () => {});
  process.on("SIGINT", () => {});
  clearInterval(unsafeTimer);
  log.info("shutting_down", { signal });

  receiver.stopAccepting();
  // Let bytes already sent by clients arrive, bounded: quiet for GRACE_QUIET_MS or GRACE_MAX_MS in all.
  const graceStart = performance.now();
  while (performance.now() - graceStart < GRACE_MAX_MS && performance.now() - receiver.lastDataAt < GRACE_QUIET_MS) {
    await Bun.sleep(10);
  }
  const partial = receiver.closeAll();
  const drained = await writer.drain(DRAIN_TIMEOUT_MS);
  if (!drained) log.error("drain_timeout", { queued: writer.queued });
  const closed = await writer.close(CLOSE_TIMEOUT_MS);
  try {
    unlinkSync(socket.path);
  } catch {
    // already gone
  }
  const ok = closed.kind === "closed" && drained;
  log.info("stopped", {
    receipts: writer.stats.receipts, events: writer.stats.events, rejected_events: writer.stats.rejected,
    frames: receiver.stats.frames, rejected_frames: receiver.stats.rejectedFrames, framing_errors: receiver.stats.framingErrors,
    connections: receiver.stats.connections, refused_connections: receiver.stats.refusedConnections, partial_frames_dropped: partial, commits: writer.stats.commits,
    commit_failures: writer.stats.commitFailures,
    terminators: closed.kind === "closed" ? closed.terminated.length : undefined,
    terminated: closed.kind === "closed" ? closed.terminated.join(",") : undefined,
    error: closed.kind === "close_failed" ? closed.message : closed.kind === "timeout" ? "writer did not close in time" : undefined,
  });
  return ok ? 0 : 1;
}
