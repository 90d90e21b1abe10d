/**
 * Errors of the replication package: one class per condition, each with a stable `name` and `code`.
 */

export class ReplicationError extends Error {
  readonly code: string
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ReplicationError'
    this.code = code
  }
}

/** The manager was used before `start()` or after `stop()`. */
export class ReplicationNotStartedError extends ReplicationError {
  constructor() {
    super('the replication manager is not started; call start() first', 'REPLICATION_NOT_STARTED')
    this.name = 'ReplicationNotStartedError'
  }
}

/** An argument is out of range or malformed (empty key, negative size, bad config value...). */
export class InvalidArgumentError extends ReplicationError {
  readonly field: string
  constructor(field: string, reason: string, options?: ErrorOptions) {
    super(`invalid ${field}: ${reason}`, 'REPLICATION_INVALID_ARGUMENT', options)
    this.name = 'InvalidArgumentError'
    this.field = field
  }
}

/** The key is not managed by this node (never added, or removed). */
export class UnknownContentError extends ReplicationError {
  readonly key: string
  constructor(key: string) {
    super(`content ${key} is not managed by this node`, 'REPLICATION_UNKNOWN_CONTENT')
    this.name = 'UnknownContentError'
    this.key = key
  }
}

/** This node has no value for the key, so it cannot pin or push it. */
export class ValueUnavailableError extends ReplicationError {
  readonly key: string
  constructor(key: string, options?: ErrorOptions) {
    super(`no value for ${key} is available locally or in the DHT`, 'REPLICATION_VALUE_UNAVAILABLE', options)
    this.name = 'ValueUnavailableError'
    this.key = key
  }
}

/** Why a peer refused a replicate request (sent back in the response). */
export type RefusalCode =
  | 'MALFORMED_REQUEST'
  | 'TOO_LARGE'
  | 'INVALID_RECORD'
  | 'STORE_FAILED'
  | 'NOT_ACCEPTING'

/** A peer answered a replicate request with a refusal and its reason. */
export class ReplicationRefusedError extends ReplicationError {
  readonly peer: string
  readonly key: string
  readonly refusal: RefusalCode
  readonly reason: string
  constructor(peer: string, key: string, refusal: RefusalCode, reason: string) {
    super(`peer ${peer} refused to replicate ${key}: ${reason} (${refusal})`, 'REPLICATION_REFUSED')
    this.name = 'ReplicationRefusedError'
    this.peer = peer
    this.key = key
    this.refusal = refusal
    this.reason = reason
  }
}

/** A peer's answer to a replicate request could not be decoded. */
export class ProtocolError extends ReplicationError {
  readonly peer: string
  constructor(peer: string, reason: string, options?: ErrorOptions) {
    super(`bad replicate response from ${peer}: ${reason}`, 'REPLICATION_PROTOCOL', options)
    this.name = 'ProtocolError'
    this.peer = peer
  }
}
