// The single owner of (sequence, previous hash) for every chain of this
// daemon. Builds, hashes, signs and commits receipts in batches; the in-memory
// tails advance only when the batch's transaction has committed.
import type { Frame } from "../../protocol/frame-schema.ts";
import type { KeySource } from "../../receipt/key-source.ts";
import {
  buildDropReceipt, buildEventReceipt, buildTerminator, subAgentChainId,
  type AttestedPeer, type BuildConfig, type ChainPosition,
} from "./builder.ts";
import { hashReceipt, signReceipt } from "../../receipt/seal.ts";
import type { Delegation, UnsignedReceipt } from "../../receipt/types.ts";
import { rowOf } from "../../store/row.ts";
import type { ReceiptRow } from "../../store/schema.ts";
import type { StoreWriter } from "../../store/writer.ts";
import { continuationId } from "./chain-id.ts";
import { DEFAULT_MAX_AGENT_CHAINS } from "../limits.ts";

export interface ChainEvent {
  /** Event number assigned by the receiver, used to acknowledge durability. */
  no: number;
  frame: Frame;
  peer: AttestedPeer | null;
}

export interface ChainWriterOptions {
  store: StoreWriter;
  signer: KeySource;
  issuerId: string;
  verificationMethod: string;
  /** Configured root chain id or the UTC date at start. */
  chainIdBase: string;
  /** Sub-agent chains kept open at once (default DEFAULT_MAX_AGENT_CHAINS). */
  maxAgentChains?: number;
  clock?: () => Date;
}

interface Tail {
  sequence: number;
  hash: string;
  receiptId: string;
}

export interface RejectedEvent {
  no: number;
  reason: string;
}

export interface CommitResult {
  receipts: number;
  rejected: RejectedEvent[];
}

/** The commit failed: nothing was written and no tail moved. */
export class CommitError extends Error {}

export class ChainWriter {
  readonly rootChainId: string;
  /** How the root chain was found at start. */
  readonly resumedFrom: number;
  private readonly committed = new Map<string, Tail | null>();
  /**
   * Open chain of each sub-agent (after continuation suffixes), least recently
   * used first. Beyond maxAgentChains the oldest are closed with a terminator;
   * an agent that comes back continues on `<chain>-2` (then -3, ...).
   */
  private readonly agentChains = new Map<string, string>();
  private readonly maxAgentChains: number;
  private readonly build: BuildConfig;
  private readonly clock: () => Date;

  constructor(private readonly opts: ChainWriterOptions) {
    this.build = { issuerId: opts.issuerId };
    this.clock = opts.clock ?? (() => new Date());
    this.maxAgentChains = opts.maxAgentChains ?? DEFAULT_MAX_AGENT_CHAINS;
    this.rootChainId = this.openChainId(opts.chainIdBase);
    this.resumedFrom = this.tailOf(this.rootChainId, new Map())?.sequence ?? 0;
  }

  /** The first of X, X-2, X-3... whose stored tail is not terminal. */
  private openChainId(base: string): string {
    for (let n = 1; ; n++) {
      const id = continuationId(base, n);
      const tail = this.opts.store.tail(id);
      if (tail === null || !tail.terminal) {
        this.committed.set(id, tail === null ? null : { sequence: tail.sequence, hash: tail.hash, receiptId: tail.receiptId });
        return id;
      }
    }
  }

  private tailOf(chainId: string, staged: Map<string, Tail | null>): Tail | null {
    if (staged.has(chainId)) return staged.get(chainId)!;
    if (!this.committed.has(chainId)) {
      const t = this.opts.store.tail(chainId);
      this.committed.set(chainId, t === null ? null : { sequence: t.sequence, hash: t.hash, receiptId: t.receiptId });
    }
    return this.committed.get(chainId)!;
  }

  private chainFor(frame: Frame): string {
    if (frame.agent_id === undefined) return this.rootChainId;
    let id = this.agentChains.get(frame.agent_id);
    if (id === undefined) id = this.openChainId(subAgentChainId(this.rootChainId, frame.agent_id));
    else this.agentChains.delete(frame.agent_id);
    this.agentChains.set(frame.agent_id, id); // now the most recently used
    return id;
  }

  private position(chainId: string, staged: Map<string, Tail | null>): ChainPosition {
    const tail = this.tailOf(chainId, staged);
    return { chainId, sequence: (tail?.sequence ?? 0) + 1, previousHash: tail?.hash ?? null };
  }

  private seal(receipt: UnsignedReceipt, staged: Map<string, Tail | null>, rows: ReceiptRow[]): void {
    const hashed = hashReceipt(receipt);
    const json = signReceipt(hashed, this.opts.signer, this.opts.verificationMethod);
    rows.push(rowOf(receipt, json, hashed.hash));
    const chain = receipt.credentialSubject.chain;
    staged.set(chain.chain_id, { sequence: chain.sequence, hash: hashed.hash, receiptId: receipt.id });
  }

  /** Receipts of one event: the events_dropped receipt first when drop_count > 0, then the live one. */
  private eventReceipts(event: ChainEvent, staged: Map<string, Tail | null>, rows: ReceiptRow[]): void {
    const { frame, peer } = event;
    const chainId = this.chainFor(frame);
    const now = this.clock().toISOString();
    // Stage into a scratch copy so that a failure leaves neither receipt behind.
    const local = new Map<string, Tail | null>([[chainId, this.tailOf(chainId, staged)]]);
    const localRows: ReceiptRow[] = [];
    // The first receipt of a new sub-agent chain points at the root chain's tail.
    let delegation: Delegation | undefined;
    if (chainId !== this.rootChainId && local.get(chainId) === null) {
      const root = this.tailOf(this.rootChainId, staged);
      if (root !== null) delegation = { parent_chain_id: this.rootChainId, parent_receipt_id: root.receiptId, delegator: { id: this.opts.issuerId } };
    }
    if (frame.drop_count !== undefined && frame.drop_count > 0) {
      const drop = buildDropReceipt(frame.session_id, frame.drop_count, peer, this.position(chainId, local), now, this.build, delegation);
      this.seal(drop, local, localRows);
      delegation = undefined;
    }
    this.seal(buildEventReceipt(frame, peer, this.position(chainId, local), now, this.build, delegation), local, localRows);
    staged.set(chainId, local.get(chainId)!);
    rows.push(...localRows);
  }

  private commitRows(rows: ReceiptRow[], staged: Map<string, Tail | null>): void {
    try {
      this.opts.store.insertBatch(rows);
    } catch (err) {
      throw new CommitError((err as Error).message);
    }
    for (const [id, tail] of staged) this.committed.set(id, tail);
  }

  /**
   * Builds and commits the receipts for `events` in one transaction. An event
   * that cannot be built is rejected alone and consumes no sequence number.
   * Throws CommitError when the transaction fails; then nothing has changed.
   */
  commit(events: readonly ChainEvent[]): CommitResult {
    const staged = new Map<string, Tail | null>();
    const rows: ReceiptRow[] = [];
    const rejected: RejectedEvent[] = [];
    for (const event of events) {
      try {
        this.eventReceipts(event, staged, rows);
      } catch (err) {
        rejected.push({ no: event.no, reason: (err as Error).message });
      }
    }
    const idle = this.closeIdleAgentChains(staged, rows);
    this.commitRows(rows, staged);
    // Only once their terminators are committed: a failed commit leaves them open, as the database says.
    for (const [agentId, chainId] of idle) {
      this.agentChains.delete(agentId);
      this.committed.delete(chainId);
    }
    return { receipts: rows.length, rejected };
  }

  /**
   * Seals a terminator, in this batch's transaction, on the least recently used
   * sub-agent chains beyond maxAgentChains, so that memory and the work at
   * shutdown stay bounded however many agent_ids peers invent. It runs after
   * the batch's events, so a chain closed here gets nothing after its terminator.
   */
  private closeIdleAgentChains(staged: Map<string, Tail | null>, rows: ReceiptRow[]): Array<[string, string]> {
    const over = this.agentChains.size - this.maxAgentChains;
    if (over <= 0) return [];
    const idle: Array<[string, string]> = [];
    for (const entry of this.agentChains) {
      if (idle.length === over) break;
      idle.push(entry);
    }
    const now = this.clock().toISOString();
    for (const [, chainId] of idle) {
      // A chain without receipts (its first commit failed) needs no terminator.
      if (this.tailOf(chainId, staged) !== null) this.seal(buildTerminator(this.position(chainId, staged), now, this.build), staged, rows);
    }
    return idle;
  }

  /** Sub-agent chains open in memory (at most maxAgentChains between batches). */
  get openAgentChains(): number {
    return this.agentChains.size;
  }

  /**
   * Chains with receipts and no terminator: the root, and sub-agent chains under
   * it (those open in memory, and any a crash left open), found in one query.
   */
  openChains(): string[] {
    const agents = this.opts.store.openChainIdsWithPrefix(`${this.rootChainId}/agent/`);
    return this.opts.store.tail(this.rootChainId)?.terminal === false ? [this.rootChainId, ...agents] : agents;
  }

  /** Writes the chain_interrupted terminator on every open chain, in one transaction. */
  terminate(): string[] {
    const staged = new Map<string, Tail | null>();
    const rows: ReceiptRow[] = [];
    const chains = this.openChains();
    const now = this.clock().toISOString();
    for (const id of chains) this.seal(buildTerminator(this.position(id, staged), now, this.build), staged, rows);
    this.commitRows(rows, staged);
    return chains;
  }
}
