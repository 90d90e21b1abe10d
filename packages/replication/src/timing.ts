/** Jitter and exponential back-off, so that many nodes and keys never retry in lock-step. */

/** `ms` scaled by a random factor in [1 - jitter, 1 + jitter]. */
export function withJitter(ms: number, jitter: number): number {
  const j = Math.min(Math.max(jitter, 0), 1)
  return Math.max(0, Math.round(ms * (1 + (Math.random() * 2 - 1) * j)))
}

/** Delay before retry number `failures` (1-based): min * 2^(failures-1), capped at max, jittered. */
export function backoffDelay(failures: number, min: number, max: number, jitter: number): number {
  const exp = Math.min(Math.max(failures - 1, 0), 30)
  return withJitter(Math.min(max, min * 2 ** exp), jitter)
}

/** A signal that aborts when any of the given signals does or after `ms`. */
export function timeoutSignal(ms: number, ...signals: Array<AbortSignal | undefined>): AbortSignal {
  const list = signals.filter((s): s is AbortSignal => s != null)
  list.push(AbortSignal.timeout(ms))
  return AbortSignal.any(list)
}
