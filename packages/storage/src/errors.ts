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

/** The disk under the data directory is full (ENOSPC, EDQUOT, SQLITE_FULL): nothing was written. */
export class InsufficientStorageError extends StorageError {
  readonly dataDir: string
  constructor(dataDir: string, options?: ErrorOptions) {
    super(
      `no space left on the disk of the data directory ${dataDir}: free some space and retry`,
      'UCXL-507-INSUFFICIENT_STORAGE',
      options
    )
    this.name = 'InsufficientStorageError'
    this.dataDir = dataDir
  }
}

/** The data directory cannot be written (read-only file system, permissions, SQLITE_READONLY). */
export class DataDirNotWritableError extends StorageError {
  readonly dataDir: string
  constructor(dataDir: string, options?: ErrorOptions) {
    super(
      `the data directory ${dataDir} is not writable (read-only file system or permissions)`,
      'UCXL-500-DATA_DIR_NOT_WRITABLE',
      options
    )
    this.name = 'DataDirNotWritableError'
    this.dataDir = dataDir
  }
}

const FULL_ERRNO = new Set(['ENOSPC', 'EDQUOT'])
const READONLY_ERRNO = new Set(['EROFS', 'EACCES', 'EPERM'])
// SQLite primary result codes (node:sqlite puts them in `errcode`, possibly extended)
const SQLITE_READONLY = 8
const SQLITE_CANTOPEN = 14
const SQLITE_FULL = 13

/**
 * Maps a full or read-only disk error (errno codes, node:sqlite result codes, anywhere in the
 * `cause` chain) to `InsufficientStorageError` / `DataDirNotWritableError`; undefined otherwise.
 * `cantOpenIsReadOnly`: an SQLite database that cannot be opened at start means the directory
 * cannot be written.
 */
export function diskError(
  err: unknown,
  dataDir: string,
  cantOpenIsReadOnly = false
): StorageError | undefined {
  let e = err as { code?: unknown; errcode?: unknown; message?: unknown; cause?: unknown } | undefined
  for (let depth = 0; e != null && typeof e === 'object' && depth < 8; depth++) {
    const code = typeof e.code === 'string' ? e.code : ''
    const message = typeof e.message === 'string' ? e.message : ''
    // LevelDB (the DHT's record store) reports I/O errors by message only
    if (FULL_ERRNO.has(code) || /no space left on device/i.test(message))
      return new InsufficientStorageError(dataDir, { cause: err })
    if (READONLY_ERRNO.has(code) || /read-only file system/i.test(message))
      return new DataDirNotWritableError(dataDir, { cause: err })
    if (typeof e.errcode === 'number') {
      const primary = e.errcode & 0xff
      if (primary === SQLITE_FULL) return new InsufficientStorageError(dataDir, { cause: err })
      if (primary === SQLITE_READONLY || (cantOpenIsReadOnly && primary === SQLITE_CANTOPEN))
        return new DataDirNotWritableError(dataDir, { cause: err })
    }
    e = e.cause as typeof e
  }
  return undefined
}
