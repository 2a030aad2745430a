// The two ways emit() can fail, kept distinguishable so callers retry only
// what a retry can fix (tests/fixtures/vectors/emit_failure_vectors.json).

/** A caller bug (an invalid event, an oversized frame, a closed emitter): a retry cannot fix it. */
export class EmitValidationError extends TypeError {
  override readonly name = "EmitValidationError";
  constructor(
    /** The offending field, as the caller spelled it (`tool.name`, `actionType`, ...). */
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field} ${rule}`);
  }
}

export type TransportFailure =
  | "connect_failed"
  | "connect_timeout"
  | "write_timeout"
  | "connection_closed"
  | "queue_full";

/** The event was not handed to the daemon (and was counted as dropped). Only thrown in strict mode. */
export class EmitTransportError extends Error {
  override readonly name = "EmitTransportError";
  constructor(
    readonly kind: TransportFailure,
    readonly socketPath: string,
    message: string,
    /** The system error code, e.g. ENOENT or ECONNREFUSED, when there is one. */
    readonly code?: string,
    /** The event's idempotency key: a retry that reuses it is recognisable as the same event. */
    readonly idempotencyKey?: string,
  ) {
    super(message);
  }
}
