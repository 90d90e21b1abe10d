import { ChorusError } from './chorus-error.js'

/** Options of {@link NotFoundError}. */
export interface NotFoundErrorOptions {
  /** @default 'NOT_FOUND' */
  code?: string
  /** @default `${key} was not found` */
  message?: string
  cause?: unknown
}

/** Nothing exists under the key (a DHT key, an address, a managed content id) where it was looked for. */
export class NotFoundError extends ChorusError {
  /** What was looked for. */
  readonly key: string

  constructor(key: string, options: NotFoundErrorOptions = {}) {
    super(options.message ?? `${key} was not found`, {
      code: options.code ?? 'NOT_FOUND',
      cause: options.cause
    })
    this.key = key
  }
}
