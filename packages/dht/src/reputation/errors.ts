import { DhtError } from '../errors.js'

/** A peer sent more requests than its rate limit allows; the request was refused unanswered. */
export class RateLimitedError extends DhtError {
  readonly peer: string
  constructor(peer: string, what: string, options?: ErrorOptions) {
    super(`peer ${peer} exceeded its rate limit for ${what}`, 'DHT_RATE_LIMITED', options)
    this.name = 'RateLimitedError'
    this.peer = peer
  }
}

/** A peer is banned by the reputation system; nothing from it is accepted until the ban ends. */
export class PeerBannedError extends DhtError {
  readonly peer: string
  constructor(peer: string, options?: ErrorOptions) {
    super(`peer ${peer} is banned for misbehaving`, 'DHT_PEER_BANNED', options)
    this.name = 'PeerBannedError'
    this.peer = peer
  }
}
