/** Jitter and exponential back-off, so that many nodes and keys never retry in lock-step. */

/** `ms` scaled by a random factor in [1 - jitter, 1 + jitter]. */
export function withJitter(ms: number, jitter: number): number {
  const j = Math.min(Math.max(jitter, 0), 1)
  return Math.max(0, Math.round(ms * (1 + (Math.random() * 2 - 1) * j)))
}

/**
 * A delay uniform over (0, `ms`]: the first periodic run of a new key, so that keys added in a
 * burst (or a whole store after an upgrade) come due spread over the interval, not all at once.
 */
export function spreadOver(ms: number): number {
  return Math.max(1, Math.round(Math.random() * Math.max(0, ms)))
}

/** Delay before retry number `failures` (1-based): min * 2^(failures-1), capped at max, jittered. */
export function backoffDelay(failures: number, min: number, max: number, jitter: number): number {
  const exp = Math.min(Math.max(failures - 1, 0), 30)
  return withJitter(Math.min(max, min * 2 ** exp), jitter)
}
