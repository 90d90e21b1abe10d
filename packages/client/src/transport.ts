/**
 * The fetch the typed client sends through: the same request again, after a backoff, while the
 * retry rules of `retry.ts` allow it. Each attempt goes out on a copy of the request, so a body
 * can be sent again; waits end early when the call's signal aborts.
 */
import { pause } from '@chorus/common'
import {
  backoffMs,
  connectionErrorCode,
  isIdempotent,
  isTransientStatus,
  NOT_RUN_CODES,
  neverSent,
  type RetryOptions,
  retryAfterMs
} from './retry.js'

export interface TransportInit {
  retry: Required<RetryOptions>
  /** The fetch underneath. Default: the platform's. */
  fetch?: (request: Request) => Promise<Response>
  /** The jitter's source (tests fix it). Default Math.random. */
  random?: () => number
}

/** Answers that are the answer, not a transient failure: readiness is 503 until ready. */
const NO_RETRY_PATHS = new Set(['/readyz'])

/** The error code of an answer's JSON error body, if it has one. */
async function answerCode(response: Response): Promise<string | undefined> {
  try {
    const body = (await response.clone().json()) as { error?: { code?: unknown } }
    return typeof body?.error?.code === 'string' ? body.error.code : undefined
  } catch {
    return undefined
  }
}

export function retryingFetch(init: TransportInit): (request: Request) => Promise<Response> {
  const send = init.fetch ?? ((request: Request) => globalThis.fetch(request))
  const random = init.random ?? Math.random
  const { retry } = init

  return async (request) => {
    const path = new URL(request.url).pathname
    const idempotent = isIdempotent(request.method, path)
    const retries = NO_RETRY_PATHS.has(path) ? 0 : retry.retries
    for (let n = 0; ; n++) {
      const last = n >= retries
      let response: Response
      // a clone's signal does not follow the original's in Node's fetch (undici): each attempt is
      // given the call's signal itself, so a time limit or an abort reaches its connection
      const attempt = new Request(last ? request : request.clone(), { signal: request.signal })
      try {
        response = await send(attempt)
      } catch (err) {
        const code = connectionErrorCode(err)
        if (last || request.signal.aborted || !(neverSent(code) || (idempotent && code !== undefined)))
          throw err
        await pause(backoffMs(n, retry, random), { signal: request.signal })
        continue
      }
      if (last) return response
      const again = idempotent
        ? isTransientStatus(response.status)
        : response.status === 503 && NOT_RUN_CODES.has((await answerCode(response)) ?? '')
      if (!again) return response
      const asked = retryAfterMs(response.headers.get('retry-after'))
      if (asked !== undefined && asked > retry.maxRetryAfterMs) return response
      await response.body?.cancel()
      await pause(Math.max(asked ?? 0, backoffMs(n, retry, random)), { signal: request.signal })
    }
  }
}
