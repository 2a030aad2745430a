// Turns a validated frame, the kernel-attested peer, a chain position and one
// clock reading into an unsigned v0.5.0 receipt (docs/protocol.md §4, §6). Pure apart
// from random ids; no I/O, no clock, no key.
import { randomUUID } from "node:crypto";
import type { Frame } from "../../protocol/frame-schema.ts";
import type { JsonValue } from "../../protocol/json.ts";
import { payloadHash } from "../../receipt/canonical.ts";
import { redactSecrets } from "./redact.ts";
import { riskLevelOf } from "./risk.ts";
import {
  RECEIPT_CONTEXT, RECEIPT_TYPE, RECEIPT_VERSION,
  type Action, type ChainLink, type CredentialSubject, type Delegation, type Issuer, type OutcomeStatus,
  type PeerCredential, type UnsignedReceipt,
} from "../../receipt/types.ts";

export const ISSUER_TYPE = "AgentReceiptsDaemon";
export const DEFAULT_ISSUER_ID = "did:agent-receipts-daemon:local";
export const DEFAULT_VERIFICATION_METHOD = `${DEFAULT_ISSUER_ID}#k1`;
export const EVENTS_DROPPED_TYPE = "agent_receipts.events_dropped";
export const CHAIN_INTERRUPTED_TYPE = "agent_receipts.chain_interrupted";
export const UNKNOWN_PRINCIPAL = "did:user:unknown";

/** The peer as attested by the kernel at accept, with the uid's login if it has one. */
export interface AttestedPeer {
  credential: PeerCredential;
  login?: string;
}

export interface ChainPosition {
  chainId: string;
  sequence: number;
  previousHash: string | null;
}

export interface BuildConfig {
  issuerId: string;
}

export function principalIdOf(peer: AttestedPeer | null): string {
  if (peer === null) return UNKNOWN_PRINCIPAL;
  if (peer.login !== undefined && peer.login !== "") return `did:user:${peer.login}`;
  return `did:user:${peer.credential.platform}:${peer.credential.uid}`;
}

export function actionTypeOf(frame: Frame): string {
  if (frame.action_type !== undefined && frame.action_type !== "") return frame.action_type;
  const server = frame.tool.server;
  return server ? `${frame.channel}.${server}.${frame.tool.name}` : `${frame.channel}.${frame.tool.name}`;
}

export function outcomeStatusOf(frame: Frame): OutcomeStatus {
  switch (frame.decision) {
    case "denied":
      return "failure";
    case "pending":
      return "pending";
    case "allowed": {
      if (frame.error !== undefined && frame.error !== "") return "failure";
      const out = frame.output;
      const mcpError = frame.channel === "mcp" && typeof out === "object" && out !== null && !Array.isArray(out) && out.isError === true;
      return mcpError ? "failure" : "success";
    }
  }
}

function chainLink(pos: ChainPosition): ChainLink {
  return { sequence: pos.sequence, previous_receipt_hash: pos.previousHash, chain_id: pos.chainId };
}

function envelope(issuer: Issuer, now: string, subject: CredentialSubject): UnsignedReceipt {
  return {
    "@context": [...RECEIPT_CONTEXT],
    id: `urn:receipt:${randomUUID()}`,
    type: [...RECEIPT_TYPE],
    version: RECEIPT_VERSION,
    issuer,
    issuanceDate: now,
    credentialSubject: subject,
  };
}

function copyPeer(peer: AttestedPeer | null): PeerCredential | undefined {
  if (peer === null) return undefined;
  const { platform, pid, uid, gid, exe_path } = peer.credential;
  return exe_path === undefined ? { platform, pid, uid, gid } : { platform, pid, uid, gid, exe_path };
}

function isPayload(value: JsonValue | undefined): value is JsonValue {
  return value !== undefined && value !== null;
}

function issuerOf(frame: Frame, config: BuildConfig): Issuer {
  const issuer: Issuer = { id: config.issuerId, type: ISSUER_TYPE };
  if (frame.issuer_name !== undefined) issuer.name = frame.issuer_name;
  if (frame.issuer_model !== undefined) issuer.model = frame.issuer_model;
  if (frame.operator_id !== undefined) {
    issuer.operator = frame.operator_name === undefined ? { id: frame.operator_id } : { id: frame.operator_id, name: frame.operator_name };
  }
  issuer.session_id = frame.session_id;
  // A null `usage` is no usage: optional fields are omitted, never null (docs/protocol.md §4).
  const usage = isPayload(frame.usage) ? frame.usage : undefined;
  if (frame.agent_id !== undefined || frame.model !== undefined || frame.capture_method !== undefined || usage !== undefined) {
    const runtime: { [key: string]: JsonValue } = {};
    if (frame.agent_id !== undefined) runtime.agent_id = frame.agent_id;
    if (frame.agent_type !== undefined) runtime.agent_type = frame.agent_type;
    if (frame.model !== undefined) runtime.model = frame.model;
    if (usage !== undefined) runtime.usage = usage;
    if (frame.capture_method !== undefined) runtime.capture_method = frame.capture_method;
    issuer.runtime = runtime;
  }
  return issuer;
}

/** The receipt for one live event. `delegation` only on the first receipt of a sub-agent chain. */
export function buildEventReceipt(
  frame: Frame, peer: AttestedPeer | null, pos: ChainPosition, now: string, config: BuildConfig, delegation?: Delegation,
): UnsignedReceipt {
  const type = actionTypeOf(frame);
  const action: Action = { id: `act_${randomUUID()}`, type, tool_name: frame.tool.name, risk_level: riskLevelOf(type), timestamp: now };
  if (frame.target_system !== undefined && frame.target_resource !== undefined) {
    action.target = { system: frame.target_system, resource: frame.target_resource };
  }
  if (isPayload(frame.input)) action.parameters_hash = payloadHash(frame.input);
  const credential = copyPeer(peer);
  if (credential !== undefined) action.peer_credential = credential;
  if (frame.idempotency_key !== undefined) action.idempotency_key = frame.idempotency_key;

  const outcome: CredentialSubject["outcome"] = { status: outcomeStatusOf(frame) };
  if (frame.error !== undefined && frame.error !== "") outcome.error = redactSecrets(frame.error);
  if (isPayload(frame.output)) outcome.response_hash = payloadHash(frame.output);

  const subject: CredentialSubject = { principal: { id: principalIdOf(peer) }, action, outcome, chain: chainLink(pos) };
  if (frame.correlation_id !== undefined) subject.correlation_id = frame.correlation_id;
  if (delegation !== undefined) subject.delegation = delegation;
  return envelope(issuerOf(frame, config), now, subject);
}

/** The synthetic receipt recording `dropCount` events an emitter failed to deliver (docs/protocol.md §6). */
export function buildDropReceipt(
  sessionId: string, dropCount: number, peer: AttestedPeer | null, pos: ChainPosition, now: string, config: BuildConfig,
  delegation?: Delegation,
): UnsignedReceipt {
  const action: Action = { id: `act_${randomUUID()}`, type: EVENTS_DROPPED_TYPE, tool_name: "events_dropped", risk_level: "low", timestamp: now };
  const credential = copyPeer(peer);
  if (credential !== undefined) action.peer_credential = credential;
  action.emitter_metadata = { drop_count: dropCount };
  const subject: CredentialSubject = { principal: { id: principalIdOf(peer) }, action, outcome: { status: "success" }, chain: chainLink(pos) };
  if (delegation !== undefined) subject.delegation = delegation;
  return envelope({ id: config.issuerId, type: ISSUER_TYPE, session_id: sessionId }, now, subject);
}

/** The terminator written on every open chain at shutdown (docs/protocol.md §6). */
export function buildTerminator(pos: ChainPosition, now: string, config: BuildConfig): UnsignedReceipt {
  return envelope({ id: config.issuerId, type: ISSUER_TYPE }, now, {
    principal: { id: UNKNOWN_PRINCIPAL },
    action: { id: `act_${randomUUID()}`, type: CHAIN_INTERRUPTED_TYPE, tool_name: "chain_interrupted", risk_level: "low", timestamp: now },
    outcome: { status: "success" },
    chain: { ...chainLink(pos), terminal: true, status: "interrupted" },
  });
}

/** Sub-agent chain id for an agent_id under a root chain (docs/protocol.md §6). */
export function subAgentChainId(rootChainId: string, agentId: string): string {
  return `${rootChainId}/agent/${agentId}`;
}
