import { DHT_ERROR_CODES, DHTError } from '../errors.js'

/** A peer sent more requests than its rate limit allows; the request was refused unanswered. */
export class RateLimitedError extends DHTError {
  readonly peer: string
  constructor(peer: string, what: string, options: { cause?: unknown } = {}) {
    super(`peer ${peer} exceeded its rate limit for ${what}`, {
      code: DHT_ERROR_CODES.RATE_LIMITED,
      cause: options.cause
    })
    this.peer = peer
  }
}

/** A peer is banned by the reputation system; nothing from it is accepted until the ban ends. */
export class PeerBannedError extends DHTError {
  readonly peer: string
  constructor(peer: string, options: { cause?: unknown } = {}) {
    super(`peer ${peer} is banned for misbehaving`, {
      code: DHT_ERROR_CODES.PEER_BANNED,
      cause: options.cause
    })
    this.peer = peer
  }
}
