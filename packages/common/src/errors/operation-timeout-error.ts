import { ChorusError } from './chorus-error.js'

/** Options of {@link OperationTimeoutError}. */
export interface OperationTimeoutErrorOptions {
  /** @default 'TIMEOUT' */
  code?: string
  cause?: unknown
}

/**
 * An operation did not finish within its time limit. (Not named `TimeoutError`: that is the
 * name of the DOMException `AbortSignal.timeout()` aborts with.)
 */
export class OperationTimeoutError extends ChorusError {
  readonly operation: string
  readonly ms: number

  constructor(operation: string, ms: number, options: OperationTimeoutErrorOptions = {}) {
    super(`${operation} timed out after ${ms} ms`, { code: options.code ?? 'TIMEOUT', cause: options.cause })
    this.operation = operation
    this.ms = ms
  }
}
