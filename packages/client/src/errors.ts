/** The client's errors: every one extends `ChorusError` from `@chorus/common`. */
import { ChorusError } from '@chorus/common'

/** The client's own codes (an agent's refusal keeps the agent's `UCXL-*` code instead). */
export const CLIENT_ERROR_CODES = {
  /** No agent answers at the URL (connection refused or reset, name not resolved). */
  UNREACHABLE: 'CLIENT_UNREACHABLE',
  /** The agent did not answer within the call's time limit. */
  TIMEOUT: 'CLIENT_TIMEOUT',
  /** The agent answered something that is not the API's JSON. */
  INVALID_RESPONSE: 'CLIENT_INVALID_RESPONSE'
} as const
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[keyof typeof CLIENT_ERROR_CODES]

/** What an agent's error body may carry besides its code and message. */
export interface AgentAPIErrorDetails {
  /** The request field at fault, when the agent names one. */
  field?: string
  /** For `UCXL-410-DELETED`: the tombstone's version. */
  version?: number
}

/**
 * The agent refused or failed a request: `status` is the HTTP status and `code` the public UCXL
 * code from its error body (`UCXL-403-ACCESS_DENIED`, ...), or `HTTP_<status>` when the answer
 * had no such body (a proxy in between). Branch on `code`, never on the message.
 */
export class AgentAPIError extends ChorusError {
  readonly status: number
  readonly field: string | undefined
  readonly version: number | undefined

  constructor(status: number, code: string, message: string, details: AgentAPIErrorDetails = {}) {
    super(message, { code })
    this.status = status
    this.field = details.field
    this.version = details.version
  }
}

/** The agent could not be reached: nothing answered at its URL. */
export class AgentUnreachableError extends ChorusError {
  readonly url: string

  constructor(url: string, reason: string, options: { cause?: unknown } = {}) {
    super(`cannot reach the agent at ${url}: ${reason}`, {
      code: CLIENT_ERROR_CODES.UNREACHABLE,
      cause: options.cause
    })
    this.url = url
  }
}
