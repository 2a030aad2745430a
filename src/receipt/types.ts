// The receipt, format v0.5.0 (docs/protocol.md §4). Optional fields are omitted, never null.
import type { JsonValue } from "../protocol/json.ts";

export const RECEIPT_VERSION = "0.5.0";
export const RECEIPT_CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://agentreceipts.ai/context/v2"] as const;
export const RECEIPT_TYPE = ["VerifiableCredential", "AgentReceipt"] as const;
export const PROOF_TYPE = "Ed25519Signature2020";

export type RiskLevel = "low" | "medium" | "high" | "critical";
export type OutcomeStatus = "success" | "failure" | "pending";
export type ChainStatus = "complete" | "interrupted";

export interface PeerCredential {
  platform: "linux" | "darwin";
  pid: number;
  uid: number;
  gid: number;
  exe_path?: string;
}

export interface Issuer {
  id: string;
  type?: string;
  name?: string;
  model?: string;
  operator?: { id: string; name?: string };
  session_id?: string;
  runtime?: { [key: string]: JsonValue };
}

export interface Action {
  id: string;
  type: string;
  tool_name?: string;
  risk_level: RiskLevel;
  target?: { system: string; resource: string };
  parameters_hash?: string;
  peer_credential?: PeerCredential;
  emitter_metadata?: { drop_count: number };
  timestamp: string;
  idempotency_key?: string;
}

export interface ChainLink {
  sequence: number;
  previous_receipt_hash: string | null;
  chain_id: string;
  terminal?: boolean;
  status?: ChainStatus;
}

export interface Delegation {
  parent_chain_id: string;
  parent_receipt_id: string;
  delegator: { id: string };
}

export interface CredentialSubject {
  principal: { id: string };
  action: Action;
  outcome: { status: OutcomeStatus; error?: string; response_hash?: string };
  chain: ChainLink;
  correlation_id?: string;
  delegation?: Delegation;
}

export interface Proof {
  type: string;
  created: string;
  verificationMethod: string;
  proofPurpose: string;
  proofValue: string;
}

export interface UnsignedReceipt {
  "@context": string[];
  id: string;
  type: string[];
  version: string;
  issuer: Issuer;
  issuanceDate: string;
  credentialSubject: CredentialSubject;
}

export interface SignedReceipt extends UnsignedReceipt {
  proof: Proof;
}
