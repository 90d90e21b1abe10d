import { ChorusError, isAbortError } from '@chorus/common'
import { ContentDeletedError } from '@chorus/storage'
import { ABORTED, type HttpError, httpErrorOf, INTERNAL, INVALID_REQUEST } from './error-codes.js'

/** The JSON error body of every failed API request. */
export interface APIErrorBody {
  /** `version`: for `UCXL-410-DELETED`, the tombstone's version. */
  error: { code: string; message: string; field?: string; version?: number }
}

export interface MappedError {
  status: number
  body: APIErrorBody
}

/** A request error raised by the API itself (bad input, auth): it carries its status. */
export class APIError extends ChorusError {
  readonly status: number
  constructor(status: number, code: string, message: string) {
    super(message, { code })
    this.status = status
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : ''
}

/** The table's answer for `err`, or undefined when neither its code nor its kind is known. */
function classify(err: unknown): HttpError | undefined {
  const code = codeOf(err)
  if (APIError.isInstance(err)) return { status: err.status, code: err.code as HttpError['code'] }
  const known = httpErrorOf(code)
  if (known !== undefined) return known
  if (isAbortError(err)) return ABORTED
  const e = err as { validation?: unknown; statusCode?: unknown } | null
  if (e?.validation !== undefined) return INVALID_REQUEST
  // another fastify refusal of the request (4xx)
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: `UCXL-${e.statusCode}-BAD_REQUEST` }
  }
  return undefined
}

/**
 * Map any error to an HTTP status and a JSON body with a UCXL code, by the table of
 * `error-codes.ts` (every package's codes). Anything unknown is a 500 whose message does not leak
 * internals.
 */
export function mapError(err: unknown): MappedError {
  const mapped = classify(err) ?? INTERNAL
  const e = err as { message?: unknown; field?: unknown } | null
  const message = mapped.message ?? (typeof e?.message === 'string' ? e.message : String(err))
  const field = typeof e?.field === 'string' ? { field: e.field } : {}
  // a deleted address names the tombstone's version, so a client can read the one before it
  const deleted = ContentDeletedError.isInstance(err) ? { version: err.version } : {}
  return { status: mapped.status, body: { error: { code: mapped.code, message, ...field, ...deleted } } }
}
