/**
 * When a failed request is sent again, and after how long: exponential backoff with full jitter
 * (a random delay up to `baseDelayMs * 2^attempt`, capped), or the agent's `Retry-After`.
 *
 * Only what cannot have changed anything is sent again:
 * - an idempotent request (GET, HEAD, and the POSTs whose repetition changes nothing further:
 *   announce, backend switch, team records, which are versioned and signed) on a connection that
 *   was refused or reset, or a 502, 503, 504 or 429 answer;
 * - any request, a store or a delete included, only when it provably never ran: the connection
 *   was refused (nothing was sent) or the agent answered 503 `UCXL-503-NOT_READY` (refused before
 *   the route did anything). A store that failed later (reset connection, quorum not reached, a
 *   timeout) may have written a version: sending it again would write another one, so it is not.
 */

export interface RetryOptions {
  /**
   * How many times a failed request is sent again.
   * @default 3
   */
  retries?: number
  /**
   * The first backoff's upper bound in ms; each later one doubles it.
   * @default 200
   */
  baseDelayMs?: number
  /**
   * The largest backoff in ms.
   * @default 5000
   */
  maxDelayMs?: number
  /**
   * The longest `Retry-After` honoured in ms; an answer asking for more is returned as it is.
   * @default 30000
   */
  maxRetryAfterMs?: number
}

export const retryDefaults: Required<RetryOptions> = {
  retries: 3,
  baseDelayMs: 200,
  maxDelayMs: 5000,
  maxRetryAfterMs: 30_000
}

/** POSTs that may be repeated: the same request again changes nothing further. */
const IDEMPOTENT_POSTS = new Set(['/v1/content/announce', '/v1/hybrid/backend', '/v1/team/records'])

/** Whether the request may be sent again after it may have reached the agent. */
export function isIdempotent(method: string, path: string): boolean {
  const m = method.toUpperCase()
  if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS') return true
  return m === 'POST' && IDEMPOTENT_POSTS.has(path)
}

/** Answers worth another try of an idempotent request. */
const TRANSIENT_STATUSES = new Set([429, 502, 503, 504])
export const isTransientStatus = (status: number): boolean => TRANSIENT_STATUSES.has(status)

/** The agent's codes for a request refused before its route did anything. */
export const NOT_RUN_CODES: ReadonlySet<string> = new Set(['UCXL-503-NOT_READY'])

/** Connection errors: nothing was sent (refused, name not resolved) or it broke mid-way. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND'])
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])

/** The errno-like code of a fetch failure (undici puts it on the cause). */
export function connectionErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e != null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (NOT_SENT.has(code) || BROKEN.has(code))) return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/** Whether a connection error proves the request was never sent. */
export const neverSent = (code: string | undefined): boolean => code !== undefined && NOT_SENT.has(code)

/** The backoff before retry number `attempt` (0-based): full jitter over an exponential bound. */
export function backoffMs(attempt: number, options: Required<RetryOptions>, random = Math.random): number {
  const bound = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt)
  return Math.floor(random() * bound)
}

/** A `Retry-After` header (seconds, or an HTTP date) in ms, or undefined. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined
  const value = header.trim()
  if (/^\d{1,9}$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
