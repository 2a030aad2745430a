// agent-receipts-emitter: send tool-call events to the local agent-receipts
// daemon. No keys, no database, no dependencies; Node.js 20+ and Bun.
export {
  Emitter,
  DEFAULT_CONFIRM_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_WRITE_TIMEOUT_MS,
  type CloseOptions,
  type EmitResult,
  type EmitterOptions,
} from "./emitter.ts";
export { EmitTransportError, EmitValidationError, type TransportFailure } from "./errors.ts";
export type { EmitEvent } from "./event.ts";
export type { FrameFields } from "./frame.ts";
export { DECISIONS, type Decision } from "../protocol/frame-schema.ts";
export { resolveSocketPath } from "../paths/resolve.ts";
