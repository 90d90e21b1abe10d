import { ChorusError } from './chorus-error.js'

/** Options of {@link NotStartedError}. */
export interface NotStartedErrorOptions {
  /** @default 'NOT_STARTED' */
  code?: string
  /** @default `${component} is not started` */
  message?: string
}

/** A component was used before `start()` or after `stop()`. */
export class NotStartedError extends ChorusError {
  readonly component: string

  constructor(component: string, options: NotStartedErrorOptions = {}) {
    super(options.message ?? `${component} is not started`, { code: options.code ?? 'NOT_STARTED' })
    this.component = component
  }
}
