/**
 * Errors of the hybrid package, on the `ChorusError` base of `@chorus/common`. Errors of the
 * backends (`NotFoundError`, `InvalidRecordError`, `DHTTimeoutError`, ...) pass through unchanged.
 */
import { ChorusError } from '@chorus/common'

/** The codes of the hybrid's own errors. */
export const HYBRID_ERROR_CODES = {
  /** An init option or a `switchBackend` argument is unusable. */
  CONFIG: 'HYBRID_CONFIG',
  /** The write journal could not be opened, written or read. */
  JOURNAL: 'HYBRID_JOURNAL',
  /** Neither backend could serve an operation. */
  UNAVAILABLE: 'HYBRID_UNAVAILABLE',
  /** The default health probe found no peer that answered. */
  PROBE_FAILED: 'HYBRID_PROBE_FAILED'
} as const
export type HybridErrorCode = (typeof HYBRID_ERROR_CODES)[keyof typeof HYBRID_ERROR_CODES]

/** Base of the hybrid's own errors. */
export class HybridError extends ChorusError {}

/** An init option or a `switchBackend` argument is unusable. */
export class HybridConfigError extends HybridError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: HYBRID_ERROR_CODES.CONFIG, cause: options.cause })
  }
}

/** The write journal could not be opened, written or read (disk full, unwritable dataDir...). */
export class JournalError extends HybridError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: HYBRID_ERROR_CODES.JOURNAL, cause: options.cause })
  }
}

/** Neither backend could serve the operation; `cause` holds what the last one said. */
export class BackendsUnavailableError extends HybridError {
  readonly operation: string
  constructor(operation: string, options: { cause?: unknown } = {}) {
    super(`${operation}: neither the network nor the local backend could serve it`, {
      code: HYBRID_ERROR_CODES.UNAVAILABLE,
      cause: options.cause
    })
    this.operation = operation
  }
}

/** The default probe found no peer that answered. */
export class ProbeFailedError extends HybridError {
  constructor(reason: string, options: { cause?: unknown } = {}) {
    super(`health probe of the network backend failed: ${reason}`, {
      code: HYBRID_ERROR_CODES.PROBE_FAILED,
      cause: options.cause
    })
  }
}
