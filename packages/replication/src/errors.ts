/**
 * Errors of the replication package, all on `ChorusError` from `@chorus/common`: one class per
 * condition, each with a stable `name` (the class name) and a `code` from
 * {@link REPLICATION_ERROR_CODES}. Classify them with `X.isInstance(err)`.
 */
import { ChorusError, InvalidInputError, NotStartedError } from '@chorus/common'

/** Every code this package's errors carry. */
export const REPLICATION_ERROR_CODES = {
  NOT_STARTED: 'REPLICATION_NOT_STARTED',
  INVALID_ARGUMENT: 'REPLICATION_INVALID_ARGUMENT',
  UNKNOWN_CONTENT: 'REPLICATION_UNKNOWN_CONTENT',
  VALUE_UNAVAILABLE: 'REPLICATION_VALUE_UNAVAILABLE',
  REFUSED: 'REPLICATION_REFUSED',
  PROTOCOL: 'REPLICATION_PROTOCOL',
  MALFORMED_REQUEST: 'REPLICATION_MALFORMED_REQUEST'
} as const
export type ReplicationErrorCode = (typeof REPLICATION_ERROR_CODES)[keyof typeof REPLICATION_ERROR_CODES]

/** The base of this package's own conditions (the generic ones subclass `@chorus/common`'s). */
export class ReplicationError extends ChorusError {
  constructor(message: string, code: ReplicationErrorCode, options?: { cause?: unknown }) {
    super(message, { code, cause: options?.cause })
  }
}

/** The manager was used before `start()` or after `stop()`. */
export class ReplicationNotStartedError extends NotStartedError {
  constructor() {
    super('replication manager', {
      code: REPLICATION_ERROR_CODES.NOT_STARTED,
      message: 'the replication manager is not started; call start() first'
    })
  }
}

/** An argument is out of range or malformed (empty key, negative size, bad config value...). */
export class InvalidArgumentError extends InvalidInputError {
  constructor(field: string, reason: string, options?: { cause?: unknown }) {
    super(field, reason, { code: REPLICATION_ERROR_CODES.INVALID_ARGUMENT, cause: options?.cause })
  }
}

/** The key is not managed by this node (never added, or removed). */
export class UnknownContentError extends ReplicationError {
  readonly key: string
  constructor(key: string) {
    super(`content ${key} is not managed by this node`, REPLICATION_ERROR_CODES.UNKNOWN_CONTENT)
    this.key = key
  }
}

/** This node has no value for the key, so it cannot pin or push it. */
export class ValueUnavailableError extends ReplicationError {
  readonly key: string
  constructor(key: string, options?: { cause?: unknown }) {
    super(
      `no value for ${key} is available locally or in the DHT`,
      REPLICATION_ERROR_CODES.VALUE_UNAVAILABLE,
      options
    )
    this.key = key
  }
}

/**
 * Why a peer refused a request (sent back in the response, always with the fixed text of
 * `REFUSAL_TEXT` in `protocol.ts`, never anything of the request or of a validator).
 */
export type RefusalCode =
  | 'MALFORMED_REQUEST'
  | 'TOO_LARGE'
  | 'INVALID_RECORD'
  | 'STORE_FAILED'
  | 'NOT_ACCEPTING'
  /** The receiver is not among the holders the key should have, as it sees the network. */
  | 'NOT_A_TARGET'
  /** The records or bytes the receiver pinned because the sender pushed them are at their limit. */
  | 'QUOTA'
  /** The receiver holds a record for the key that the pushed one does not succeed. */
  | 'STALE'
  /** The pushed record contradicts the one held (same author, same version, other content). */
  | 'EQUIVOCATION'
  /** The sender is far over its per-peer rate of pushes, proofs or syncs (a flood: it is charged). */
  | 'RATE_LIMITED'
  /** The sender is over its per-peer rate, not yet a flood: try again shortly (no penalty). */
  | 'BUSY'
  /** A proof was asked for a key the receiver does not hold. */
  | 'NOT_HELD'
  /** A proof was asked for a value other than the one the receiver holds (another version). */
  | 'OTHER_VALUE'
  /** A sync message named a session the receiver does not hold for the sender (expired, or never). */
  | 'NO_SESSION'

/** A peer answered a replicate request with a refusal and its reason. */
export class ReplicationRefusedError extends ReplicationError {
  readonly peer: string
  readonly key: string
  readonly refusal: RefusalCode
  readonly reason: string
  constructor(peer: string, key: string, refusal: RefusalCode, reason: string) {
    super(`peer ${peer} refused to replicate ${key}: ${reason} (${refusal})`, REPLICATION_ERROR_CODES.REFUSED)
    this.peer = peer
    this.key = key
    this.refusal = refusal
    this.reason = reason
  }
}

/**
 * A peer's answer to a replicate request could not be decoded. (Named apart from
 * `@chorus/dht`'s `ProtocolError`, which is about the request/response framing itself.)
 */
export class ReplicationProtocolError extends ReplicationError {
  readonly peer: string
  constructor(peer: string, reason: string, options?: { cause?: unknown }) {
    super(`bad replicate response from ${peer}: ${reason}`, REPLICATION_ERROR_CODES.PROTOCOL, options)
    this.peer = peer
  }
}

/** An inbound request is not a well-formed replicate or ping request (the reason says why). */
export class MalformedRequestError extends ReplicationError {
  constructor(reason: string) {
    super(reason, REPLICATION_ERROR_CODES.MALFORMED_REQUEST)
  }
}
