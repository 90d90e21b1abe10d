/**
 * A token bucket per key (a peer, a refusal code): each key may take `burst` tokens at once and
 * `ratePerSecond` per second after that. Buckets of idle keys are forgotten (bounded memory). The
 * dht limits requests and bytes per peer with it; the refusal log limits lines per code.
 */

export interface RateLimiterInit {
  /** Requests a peer may send at once (bucket capacity). Default: 50. */
  burst?: number
  /** Tokens refilled per second and peer (sustained rate). Default: 20. */
  ratePerSecond?: number
  /** Most peers tracked at once; the least recently seen bucket is dropped beyond it. Default: 10000. */
  maxPeers?: number
  /** Clock in ms (tests). Default: `Date.now`. */
  now?: () => number
}

export interface RateLimiter {
  /** Takes `cost` tokens from the peer's bucket; false (and nothing taken) when it has too few. */
  tryTake(peer: string, cost?: number): boolean
  /** Tokens the peer has right now. */
  available(peer: string): number
  /** Requests refused so far, over all peers. */
  readonly refused: number
  /** Forgets every bucket. */
  clear(): void
}

interface Bucket {
  tokens: number
  at: number
}

export function createRateLimiter(init: RateLimiterInit = {}): RateLimiter {
  const burst = positive(init.burst, 50, 'burst')
  const rate = positive(init.ratePerSecond, 20, 'ratePerSecond')
  const maxPeers = positive(init.maxPeers, 10_000, 'maxPeers')
  const now = init.now ?? Date.now
  // a Map keeps insertion order: re-inserting on use makes the first entry the least recently seen
  const buckets = new Map<string, Bucket>()
  let refused = 0

  const refill = (peer: string): Bucket => {
    const t = now()
    let b = buckets.get(peer)
    if (b == null) {
      b = { tokens: burst, at: t }
    } else {
      b.tokens = Math.min(burst, b.tokens + (Math.max(0, t - b.at) / 1000) * rate)
      b.at = t
      buckets.delete(peer)
    }
    buckets.set(peer, b)
    while (buckets.size > maxPeers) {
      const oldest = buckets.keys().next().value
      if (oldest === undefined) break
      buckets.delete(oldest)
    }
    return b
  }

  return {
    tryTake(peer, cost = 1) {
      const b = refill(peer)
      if (b.tokens >= cost) {
        b.tokens -= cost
        return true
      }
      refused++
      return false
    },
    available(peer) {
      return refill(peer).tokens
    },
    get refused() {
      return refused
    },
    clear() {
      buckets.clear()
    }
  }
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt
  if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) {
    throw new RangeError(`${name} must be a positive finite number, got ${String(v)}`)
  }
  return v
}
