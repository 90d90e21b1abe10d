/**
 * Errors of the dht package. Each condition has its own class with a stable `name` and `code`.
 */
export class DhtError extends Error {
  readonly code: string
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'DhtError'
    this.code = code
  }
}

/** No value (or no provider) exists for the key on this node or any peer asked. */
export class NotFoundError extends DhtError {
  readonly key: string
  constructor(key: string, options?: ErrorOptions) {
    super(`no value found for key ${key}`, 'DHT_NOT_FOUND', options)
    this.name = 'NotFoundError'
    this.key = key
  }
}

/** A put that was meant for the network reached no peer that stored it. */
export class NoPeersAcknowledgedError extends DhtError {
  readonly key: string
  constructor(key: string, options?: ErrorOptions) {
    super(`no peer acknowledged storing ${key}; the value is only held locally`, 'DHT_NO_ACKS', options)
    this.name = 'NoPeersAcknowledgedError'
    this.key = key
  }
}

/** A record was refused by the namespace validator (malformed, oversized, badly signed...). */
export class InvalidRecordError extends DhtError {
  readonly key: string
  constructor(key: string, reason: string, options?: ErrorOptions) {
    super(`record for ${key} is invalid: ${reason}`, 'DHT_INVALID_RECORD', options)
    this.name = 'InvalidRecordError'
    this.key = key
  }
}

/** The component was used before `start()` or after `stop()`/`close()`. */
export class NotStartedError extends DhtError {
  constructor(what: string) {
    super(`${what} is not started`, 'DHT_NOT_STARTED')
    this.name = 'NotStartedError'
  }
}

/** An operation did not finish within its timeout. */
export class DhtTimeoutError extends DhtError {
  constructor(operation: string, ms: number, options?: ErrorOptions) {
    super(`${operation} timed out after ${ms} ms`, 'DHT_TIMEOUT', options)
    this.name = 'DhtTimeoutError'
  }
}

/** Bootstrap reached no bootstrap peer (or no DHT server among them) within `bootstrapTimeout`. */
export class BootstrapError extends DhtError {
  /** The bootstrap addresses that were tried. */
  readonly peers: string[]
  constructor(message: string, peers: string[], options?: ErrorOptions) {
    super(message, 'DHT_BOOTSTRAP_FAILED', options)
    this.name = 'BootstrapError'
    this.peers = peers
  }
}

/** An init option or argument is unusable (bad multiaddr, bad pre-shared key, unreadable key file...). */
export class DhtConfigError extends DhtError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'DHT_CONFIG', options)
    this.name = 'DhtConfigError'
  }
}

/** A key is not of the form `/<namespace>/<rest>` or has no validator for its namespace. */
export class InvalidKeyError extends DhtError {
  readonly key: string
  constructor(key: string, reason: string, options?: ErrorOptions) {
    super(`invalid DHT key ${JSON.stringify(key)}: ${reason}`, 'DHT_INVALID_KEY', options)
    this.name = 'InvalidKeyError'
    this.key = key
  }
}

/** A request or response of a peer protocol broke its size limit or the protocol itself. */
export class ProtocolError extends DhtError {
  readonly protocol: string
  constructor(protocol: string, reason: string, options?: ErrorOptions) {
    super(`protocol ${protocol}: ${reason}`, 'DHT_PROTOCOL', options)
    this.name = 'ProtocolError'
    this.protocol = protocol
  }
}

/** A peer could not be reached (dial, stream or ping failed). */
export class PeerUnreachableError extends DhtError {
  readonly peer: string
  constructor(peer: string, options?: ErrorOptions) {
    super(`peer ${peer} could not be reached`, 'DHT_PEER_UNREACHABLE', options)
    this.name = 'PeerUnreachableError'
    this.peer = peer
  }
}

/**
 * A peer offered a record the namespace selector ranks below the one this node holds for the key
 * (an older version, say): it is refused so a replayed record cannot roll the node back. Not a
 * sign of a bad peer (honest peers may hold older records), so it costs no reputation.
 */
export class StaleRecordError extends DhtError {
  readonly key: string
  constructor(key: string, options?: ErrorOptions) {
    super(`record for ${key} is older than the one this node holds; refused`, 'DHT_STALE_RECORD', options)
    this.name = 'StaleRecordError'
    this.key = key
  }
}
