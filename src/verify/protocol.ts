// Messages between the verifier and its workers.
import type { CheckedReceipt } from "./check-receipt.ts";

export type VerifyRequest = { kind: "init"; publicKeyPem: string } | { kind: "batch"; batch: number; receipts: string[] };

export interface VerifyResponse {
  batch: number;
  results: CheckedReceipt[];
}
