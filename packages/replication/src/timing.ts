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

/** A due time that never comes: with the sweep on, the sweep owns the key's periodic work. */
export const SWEPT = Number.MAX_SAFE_INTEGER

/**
 * When a healthy key's holders are next counted. With the sweep on: never on a timer. The sweep
 * compares every region's records with its closest holders once per repair interval and sends
 * what they lack, and a departed holder brings the key's check forward (`markPeerDeparted`), so a
 * per-key timer would only repeat that work, once per key. Without the sweep: one jittered
 * `repairInterval` from now, or (`first`, a key just placed) a delay spread over it, so that
 * keys added in a burst do not come due at once.
 */
export function nextHealthyCheck(
  init: { repairInterval: number; jitter: number; enableSweep?: boolean | undefined },
  now: number,
  first = false
): number {
  if (init.enableSweep === true) return SWEPT
  return now + (first ? spreadOver(init.repairInterval) : withJitter(init.repairInterval, init.jitter))
}

/**
 * How often a held value is written into this node's own record store again when the sweep is on
 * (24 h): kad-dht drops a record received more than 48 h before it is read, and a copy the sweep
 * keeps confirming is not rewritten, so it must be renewed; the renewal is a local write only, so
 * doing it more often (every `republishInterval`, which follows the reprovide interval) only
 * spends work that grows with the keys held.
 */
export const SWEPT_RENEWAL_INTERVAL = 24 * 3_600_000

/**
 * The interval of a key's republish job: `republishInterval`, or with the sweep on (where the job
 * is a local renewal) {@link SWEPT_RENEWAL_INTERVAL}.
 */
export function republishEvery(init: {
  republishInterval: number
  enableSweep?: boolean | undefined
}): number {
  return init.enableSweep === true ? SWEPT_RENEWAL_INTERVAL : init.republishInterval
}

/** Delay before retry number `failures` (1-based): min * 2^(failures-1), capped at max, jittered. */
export function backoffDelay(failures: number, min: number, max: number, jitter: number): number {
  const exp = Math.min(Math.max(failures - 1, 0), 30)
  return withJitter(Math.min(max, min * 2 ** exp), jitter)
}
