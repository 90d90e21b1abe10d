import { ChorusError } from '@chorus/common'

/** The CLI's exit codes (documented in the README). */
export const EXIT = {
  OK: 0,
  /** Anything not listed below (server error, integrity failure, demo step failed). */
  FAILURE: 1,
  /** Bad usage, invalid configuration, invalid input (e.g. an invalid address). */
  USAGE: 2,
  /** Nothing stored at the address (or it was deleted). */
  NOT_FOUND: 3,
  /** The agent's role may not read or write it, or the API token was refused. */
  ACCESS_DENIED: 4,
  /** No agent answers at the URL (not started, wrong data dir or URL). */
  UNREACHABLE: 5,
  /** The agent answered but is not ready, shutting down or timed out. */
  UNAVAILABLE: 6
} as const

/** The CLI's own error codes (an API refusal keeps the API's `UCXL-*` code instead). */
export const CLI_ERROR_CODES = {
  /** A usage error or any other failure of the CLI itself. */
  ERROR: 'CLI_ERROR',
  /** No agent answers at the URL. */
  UNREACHABLE: 'CLI_UNREACHABLE',
  /** The agent did not answer in time. */
  TIMEOUT: 'CLI_TIMEOUT'
} as const
export type CliErrorCode = (typeof CLI_ERROR_CODES)[keyof typeof CLI_ERROR_CODES]

/** An error the CLI reports with a given exit code. */
export class CliError extends ChorusError {
  readonly exitCode: number
  /**
   * @param code a {@link CLI_ERROR_CODES} value, or the code of the API's error response
   */
  constructor(
    message: string,
    exitCode: number,
    code: string = CLI_ERROR_CODES.ERROR,
    options?: ErrorOptions
  ) {
    super(message, { code, cause: options?.cause })
    this.exitCode = exitCode
  }
}

/** Exit code for an API error response. */
export function exitCodeForStatus(status: number): number {
  if (status === 400 || status === 413 || status === 415 || status === 422)
    return status === 422 ? EXIT.FAILURE : EXIT.USAGE
  if (status === 401 || status === 403) return EXIT.ACCESS_DENIED
  // 410: deleted (a tombstone ends the chain): nothing is stored there now
  if (status === 404 || status === 410) return EXIT.NOT_FOUND
  if (status === 503 || status === 504) return EXIT.UNAVAILABLE
  return EXIT.FAILURE
}
