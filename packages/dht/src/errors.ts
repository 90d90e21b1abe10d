/**
 * Errors of the dht package, on `ChorusError` from `@chorus/common`. Each condition has its own
 * class with a stable `name` (the class name) and `code` (one of {@link DHT_ERROR_CODES}).
 *
 * Not found and not started are the generic classes of `@chorus/common` (re-exported here, so
 * `import { NotFoundError } from '@chorus/dht'` still works) thrown with the dht codes; a time
 * limit is `DHTTimeoutError`, an `OperationTimeoutError` with the code `DHT_TIMEOUT`.
 * Classify with `X.isInstance(err)`.
 */
import { ChorusError, NotFoundError, NotStartedError, OperationTimeoutError } from '@chorus/common'

export { NotFoundError, NotStartedError }

/** Every code the dht package throws with (the values are stable; tests and the API pin them). */
export const DHT_ERROR_CODES = {
  NOT_FOUND: 'DHT_NOT_FOUND',
  NO_ACKS: 'DHT_NO_ACKS',
  INVALID_RECORD: 'DHT_INVALID_RECORD',
  NOT_STARTED: 'DHT_NOT_STARTED',
  TIMEOUT: 'DHT_TIMEOUT',
  BOOTSTRAP_FAILED: 'DHT_BOOTSTRAP_FAILED',
  CONFIG: 'DHT_CONFIG',
  INVALID_KEY: 'DHT_INVALID_KEY',
  PROTOCOL: 'DHT_PROTOCOL',
  PEER_UNREACHABLE: 'DHT_PEER_UNREACHABLE',
  STALE_RECORD: 'DHT_STALE_RECORD',
  RATE_LIMITED: 'DHT_RATE_LIMITED',
  PEER_BANNED: 'DHT_PEER_BANNED',
  EQUIVOCATION: 'DHT_EQUIVOCATION',
  NOT_ADMITTED: 'DHT_NOT_ADMITTED'
} as const
export type DHTErrorCode = (typeof DHT_ERROR_CODES)[keyof typeof DHT_ERROR_CODES]

/** `{ cause }`, as the dht errors took it before (`ErrorOptions`). */
interface CauseOptions {
  cause?: unknown
}

/** The base of the dht package's own error classes. */
export class DHTError extends ChorusError {
  constructor(message: string, options: { code: DHTErrorCode; cause?: unknown }) {
    super(message, options)
  }
}

/** `NotFoundError` (from `@chorus/common`) with the dht code: no value or provider for `key`. */
export function dhtNotFound(key: string, options: CauseOptions = {}): NotFoundError {
  return new NotFoundError(key, {
    code: DHT_ERROR_CODES.NOT_FOUND,
    message: `no value found for key ${key}`,
    cause: options.cause
  })
}

/** `NotStartedError` (from `@chorus/common`) with the dht code: used before start or after stop. */
export function dhtNotStarted(what: string): NotStartedError {
  return new NotStartedError(what, { code: DHT_ERROR_CODES.NOT_STARTED })
}

/** What reached no peer: a put (the value) or a provide (the provider record). */
export type UnacknowledgedOperation = 'put' | 'provide'

/**
 * A put that was meant for the network reached no peer that stored it, or a provide that no peer
 * acknowledged (`operation`): only this node holds the value, or knows that it provides the key.
 */
export class NoPeersAcknowledgedError extends DHTError {
  readonly key: string
  readonly operation: UnacknowledgedOperation
  constructor(key: string, options: CauseOptions & { operation?: UnacknowledgedOperation } = {}) {
    const operation = options.operation ?? 'put'
    super(
      operation === 'put'
        ? `no peer acknowledged storing ${key}; the value is only held locally`
        : `no peer acknowledged the provider record of ${key}; only this node knows it provides the key`,
      { code: DHT_ERROR_CODES.NO_ACKS, cause: options.cause }
    )
    this.key = key
    this.operation = operation
  }
}

/** A record was refused by the namespace validator (malformed, oversized, badly signed...). */
export class InvalidRecordError extends DHTError {
  readonly key: string
  constructor(key: string, reason: string, options: CauseOptions = {}) {
    super(`record for ${key} is invalid: ${reason}`, {
      code: DHT_ERROR_CODES.INVALID_RECORD,
      cause: options.cause
    })
    this.key = key
  }
}

/** An operation did not finish within its time limit (`OperationTimeoutError`, code `DHT_TIMEOUT`). */
export class DHTTimeoutError extends OperationTimeoutError {
  constructor(operation: string, ms: number, options: CauseOptions = {}) {
    super(operation, ms, { code: DHT_ERROR_CODES.TIMEOUT, cause: options.cause })
  }
}

/** Bootstrap reached no bootstrap peer (or no DHT server among them) within `bootstrapTimeout`. */
export class BootstrapError extends DHTError {
  /** The bootstrap addresses that were tried. */
  readonly peers: string[]
  constructor(message: string, peers: string[], options: CauseOptions = {}) {
    super(message, { code: DHT_ERROR_CODES.BOOTSTRAP_FAILED, cause: options.cause })
    this.peers = peers
  }
}

/** An init option or argument is unusable (bad multiaddr, bad pre-shared key, unreadable key file...). */
export class DHTConfigError extends DHTError {
  constructor(message: string, options: CauseOptions = {}) {
    super(message, { code: DHT_ERROR_CODES.CONFIG, cause: options.cause })
  }
}

/** A key is not of the form `/<namespace>/<rest>` or has no validator for its namespace. */
export class InvalidKeyError extends DHTError {
  readonly key: string
  constructor(key: string, reason: string, options: CauseOptions = {}) {
    super(`invalid DHT key ${JSON.stringify(key)}: ${reason}`, {
      code: DHT_ERROR_CODES.INVALID_KEY,
      cause: options.cause
    })
    this.key = key
  }
}

/** A request or response of a peer protocol broke its size limit or the protocol itself. */
export class ProtocolError extends DHTError {
  readonly protocol: string
  constructor(protocol: string, reason: string, options: CauseOptions = {}) {
    super(`protocol ${protocol}: ${reason}`, { code: DHT_ERROR_CODES.PROTOCOL, cause: options.cause })
    this.protocol = protocol
  }
}

/** A peer could not be reached (dial, stream or ping failed). */
export class PeerUnreachableError extends DHTError {
  readonly peer: string
  constructor(peer: string, options: CauseOptions = {}) {
    super(`peer ${peer} could not be reached`, {
      code: DHT_ERROR_CODES.PEER_UNREACHABLE,
      cause: options.cause
    })
    this.peer = peer
  }
}

/**
 * A peer offered a record the namespace selector ranks below the one this node holds for the key
 * (an older version, say): it is refused so a replayed record cannot roll the node back. Not a
 * sign of a bad peer (honest peers may hold older records), so it costs no reputation.
 */
export class StaleRecordError extends DHTError {
  readonly key: string
  constructor(key: string, options: CauseOptions = {}) {
    super(`record for ${key} is older than the one this node holds; refused`, {
      code: DHT_ERROR_CODES.STALE_RECORD,
      cause: options.cause
    })
    this.key = key
  }
}

/**
 * Two valid records contradict each other for one key (two different copies of one immutable
 * version, or a head that forks its chain): the one held stays. The author signed both, so the
 * author (`authorKey`, a raw 32-byte Ed25519 public key) is charged, not the peer that relayed it.
 */
export class EquivocationError extends DHTError {
  readonly key: string
  readonly authorKey: Uint8Array
  constructor(key: string, authorKey: Uint8Array, options: CauseOptions = {}) {
    super(`two different valid records for ${key} by one author; the first one stays`, {
      code: DHT_ERROR_CODES.EQUIVOCATION,
      cause: options.cause
    })
    this.key = key
    this.authorKey = authorKey
  }
}

/** A peer did not prove membership of this node's team (no valid certificate for its peer id). */
export class PeerNotAdmittedError extends DHTError {
  readonly peer: string
  constructor(peer: string, options: CauseOptions = {}) {
    super(`peer ${peer} is not an admitted member of this team`, {
      code: DHT_ERROR_CODES.NOT_ADMITTED,
      cause: options.cause
    })
    this.peer = peer
  }
}
