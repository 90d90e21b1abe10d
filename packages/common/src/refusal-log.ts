/**
 * Logging of refusals of what peers sent, at a bounded size and rate: a hostile peer that makes a
 * node refuse ten thousand requests must not make it write ten thousand lines, nor lines that
 * carry what it sent. Each line has small fields only (long strings and objects replaced by what
 * they are); each refusal code has a token bucket of lines; what the bucket suppresses is counted
 * and reported in one summary line per interval ("N refusals suppressed", by code).
 */
import type { Logger } from './logger.js'
import { createRateLimiter } from './rate-limiter.js'

export interface RefusalLogInit {
  /** Lines one code may log at once (the bucket's capacity). Default: 10. */
  burst?: number
  /** Lines per second one code may log after that. Default: 1. */
  ratePerSecond?: number
  /**
   * Longest string field kept, in characters: a longer one is replaced by its length (never cut,
   * so no part of a long input reaches the log; a peer id is 52). Default: 64.
   */
  maxFieldChars?: number
  /** Fields kept per line (the first ones). Default: 8. */
  maxFields?: number
  /** How often the suppressed refusals are summarised, in ms. Default: 60_000. */
  summaryInterval?: number
  /** Level of the refusal lines. Default: 'info'. */
  level?: 'debug' | 'info' | 'warn'
  /** Clock in ms (tests). Default: `Date.now`. */
  now?: () => number
}

export interface RefusalLog {
  /**
   * Logs one refusal: `code` is this node's fixed refusal code, `fields` small facts (the peer id,
   * a count); never the peer's input. Suppressed beyond the code's rate.
   */
  refused(code: string, fields?: Record<string, unknown>, message?: string): void
  /** Logs the summary of what was suppressed since the last one, if anything was. */
  flush(): void
  /** Flushes and stops the summary timer. */
  stop(): void
  /** Refusals suppressed so far, over all codes. */
  readonly suppressed: number
}

/** Codes tracked at once; beyond it the least recently seen code's bucket is forgotten. */
const MAX_CODES = 256
const MAX_CODE_CHARS = 64

function cut(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…` : value
}

function bounded(
  fields: Record<string, unknown>,
  maxFields: number,
  maxChars: number
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  let n = 0
  for (const [k, v] of Object.entries(fields)) {
    if (n++ >= maxFields) break
    const key = cut(k, 32)
    if (typeof v === 'string') out[key] = v.length > maxChars ? `[${v.length} characters]` : v
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) out[key] = v
    else if (v !== undefined) out[key] = `[${typeof v}]`
  }
  return out
}

/** @throws RangeError when `burst` or `ratePerSecond` is not a positive finite number. */
export function createRefusalLog(logger: Logger, init: RefusalLogInit = {}): RefusalLog {
  const burst = init.burst ?? 10
  const rate = init.ratePerSecond ?? 1
  const maxChars = init.maxFieldChars ?? 64
  const maxFields = init.maxFields ?? 8
  const interval = init.summaryInterval ?? 60_000
  const level = init.level ?? 'info'
  // one bucket of lines per code, the least recently seen forgotten beyond MAX_CODES
  const lines = createRateLimiter({
    burst,
    ratePerSecond: rate,
    maxPeers: MAX_CODES,
    now: init.now ?? Date.now
  })
  let pending = new Map<string, number>()
  let suppressed = 0
  let timer: ReturnType<typeof setTimeout> | undefined

  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    if (pending.size === 0) return
    const byCode = Object.fromEntries(pending)
    const total = [...pending.values()].reduce((a, b) => a + b, 0)
    pending = new Map()
    logger[level]({ suppressed: total, byCode }, `${total} refusals suppressed`)
  }

  return {
    refused(rawCode, fields = {}, message = 'refused') {
      const code = cut(String(rawCode), MAX_CODE_CHARS)
      if (lines.tryTake(code)) {
        logger[level]({ ...bounded(fields, maxFields, maxChars), code }, cut(message, 200))
        return
      }
      suppressed++
      // codes in a summary are bounded like the buckets
      if (pending.has(code) || pending.size < MAX_CODES) pending.set(code, (pending.get(code) ?? 0) + 1)
      if (timer === undefined) {
        timer = setTimeout(flush, interval)
        timer.unref?.()
      }
    },
    flush,
    stop: flush,
    get suppressed() {
      return suppressed
    }
  }
}
