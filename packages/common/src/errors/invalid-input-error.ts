import { ChorusError } from './chorus-error.js'

/** Options of {@link InvalidInputError}. */
export interface InvalidInputErrorOptions {
  /** @default 'INVALID_INPUT' */
  code?: string
  /** @default `invalid ${field}: ${reason}` */
  message?: string
  cause?: unknown
}

/**
 * An argument or option has the wrong type, shape or range. `field` names it; `reason` says
 * what is wrong without echoing the value (it may be a secret or a flood).
 */
export class InvalidInputError extends ChorusError {
  readonly field: string
  readonly reason: string

  constructor(field: string, reason: string, options: InvalidInputErrorOptions = {}) {
    super(options.message ?? `invalid ${field}: ${reason}`, {
      code: options.code ?? 'INVALID_INPUT',
      cause: options.cause
    })
    this.field = field
    this.reason = reason
  }
}
