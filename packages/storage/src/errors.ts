/**
 * Errors of the storage package. One class per condition, each with a stable `name` and a `code`
 * from the UCXL error codes the HTTP API returns (`UCXL-<status>-<REASON>`).
 */
export class StorageError extends Error {
  readonly code: string
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'StorageError'
    this.code = code
  }
}

/** The address does not parse, or cannot be used for this operation (e.g. a wildcard on store). */
export class InvalidAddressError extends StorageError {
  readonly address: string
  constructor(address: string, reason: string, options?: ErrorOptions) {
    super(`invalid UCXL address ${JSON.stringify(address)}: ${reason}`, 'UCXL-400-INVALID_ADDRESS', options)
    this.name = 'InvalidAddressError'
    this.address = address
  }
}

/** No version of the address (or not the requested one) exists locally or on the network. */
export class ContentNotFoundError extends StorageError {
  readonly address: string
  constructor(address: string, reason = 'no stored version was found', options?: ErrorOptions) {
    super(`content not found for ${address}: ${reason}`, 'UCXL-404-NOT_FOUND', options)
    this.name = 'ContentNotFoundError'
    this.address = address
  }
}

/** None of the role keys this node holds opens the content, or the node may not act as the role. */
export class AccessDeniedError extends StorageError {
  readonly address: string
  constructor(address: string, reason: string, options?: ErrorOptions) {
    super(`access denied to ${address}: ${reason}`, 'UCXL-403-ACCESS_DENIED', options)
    this.name = 'AccessDeniedError'
    this.address = address
  }
}

/** The creator role has read-only authority and may not store content. */
export class ReadOnlyRoleError extends StorageError {
  readonly role: string
  constructor(role: string, options?: ErrorOptions) {
    super(`role ${role} has read-only authority and cannot store content`, 'UCXL-403-READ_ONLY_ROLE', options)
    this.name = 'ReadOnlyRoleError'
    this.role = role
  }
}

/** The creator role is not in the role registry. */
export class UnknownRoleError extends StorageError {
  readonly role: string
  constructor(role: string, options?: ErrorOptions) {
    super(`unknown role ${JSON.stringify(role)}`, 'UCXL-400-UNKNOWN_ROLE', options)
    this.name = 'UnknownRoleError'
    this.role = role
  }
}

/** The content is larger than `maxContentBytes`. */
export class ContentTooLargeError extends StorageError {
  readonly size: number
  readonly limit: number
  constructor(size: number, limit: number, options?: ErrorOptions) {
    super(`content is ${size} bytes, the limit is ${limit} bytes`, 'UCXL-413-CONTENT_TOO_LARGE', options)
    this.name = 'ContentTooLargeError'
    this.size = size
    this.limit = limit
  }
}

/**
 * A record failed verification: bad signature, ciphertext hash, version chain, author, a
 * rollback below a version this node has already seen, or a ciphertext that does not decrypt.
 */
export class IntegrityError extends StorageError {
  readonly address: string
  constructor(address: string, reason: string, options?: ErrorOptions) {
    super(`integrity check failed for ${address}: ${reason}`, 'UCXL-422-INTEGRITY', options)
    this.name = 'IntegrityError'
    this.address = address
  }
}

/** An operation did not finish within its timeout. */
export class StorageTimeoutError extends StorageError {
  constructor(operation: string, ms: number, options?: ErrorOptions) {
    super(`${operation} timed out after ${ms} ms`, 'UCXL-504-TIMEOUT', options)
    this.name = 'StorageTimeoutError'
  }
}

/** Fewer peers than the write quorum acknowledged a store (the record may still spread later). */
export class WriteQuorumError extends StorageError {
  readonly acks: number
  readonly required: number
  constructor(address: string, acks: number, required: number, options?: ErrorOptions) {
    super(
      `only ${acks} of the ${required} required peers acknowledged storing ${address}`,
      'UCXL-503-QUORUM_NOT_REACHED',
      options
    )
    this.name = 'WriteQuorumError'
    this.acks = acks
    this.required = required
  }
}

/** The storage was used before `start()` or after `stop()`. */
export class StorageNotStartedError extends StorageError {
  constructor() {
    super('encrypted storage is not started; call start() first', 'UCXL-503-NOT_STARTED')
    this.name = 'StorageNotStartedError'
  }
}

/** A byte string is not a well-formed CHORUS envelope (thrown by `decodeEnvelope`). */
export class MalformedEnvelopeError extends StorageError {
  constructor(reason: string, options?: ErrorOptions) {
    super(`malformed envelope: ${reason}`, 'UCXL-422-MALFORMED_ENVELOPE', options)
    this.name = 'MalformedEnvelopeError'
  }
}

/** An envelope is well formed but its signature, hash or key does not check out. */
export class InvalidEnvelopeError extends StorageError {
  constructor(reason: string, options?: ErrorOptions) {
    super(`invalid envelope: ${reason}`, 'UCXL-422-INTEGRITY', options)
    this.name = 'InvalidEnvelopeError'
  }
}

/** The content type is not 1 to 64 characters of `[A-Za-z0-9_.+/-]`. */
export class InvalidContentTypeError extends StorageError {
  constructor(contentType: string, options?: ErrorOptions) {
    super(
      `invalid content type ${JSON.stringify(contentType.slice(0, 80))}: use 1 to 64 characters of A-Z a-z 0-9 _ . + / -`,
      'UCXL-400-INVALID_CONTENT_TYPE',
      options
    )
    this.name = 'InvalidContentTypeError'
  }
}
