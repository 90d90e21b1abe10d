/**
 * Errors of the storage package, on the common `ChorusError` base. One class per condition, each
 * with a stable `name` and a `code` from the UCXL error codes the HTTP API returns
 * (`UCXL-<status>-<REASON>`), declared once in {@link STORAGE_ERROR_CODES}.
 */
import { ChorusError, NotStartedError, OperationTimeoutError } from '@chorus/common'

/** Every code this package's errors carry. */
export const STORAGE_ERROR_CODES = {
  INVALID_ADDRESS: 'UCXL-400-INVALID_ADDRESS',
  INVALID_CONTENT_TYPE: 'UCXL-400-INVALID_CONTENT_TYPE',
  INVALID_DECISION: 'UCXL-400-INVALID_DECISION',
  UNKNOWN_ROLE: 'UCXL-400-UNKNOWN_ROLE',
  BAD_REQUEST: 'UCXL-400-BAD_REQUEST',
  ACCESS_DENIED: 'UCXL-403-ACCESS_DENIED',
  READ_ONLY_ROLE: 'UCXL-403-READ_ONLY_ROLE',
  NOT_FOUND: 'UCXL-404-NOT_FOUND',
  DELETED: 'UCXL-410-DELETED',
  CONTENT_TOO_LARGE: 'UCXL-413-CONTENT_TOO_LARGE',
  INTEGRITY: 'UCXL-422-INTEGRITY',
  MALFORMED_ENVELOPE: 'UCXL-422-MALFORMED_ENVELOPE',
  ABORTED: 'UCXL-499-ABORTED',
  INTERNAL: 'UCXL-500-INTERNAL',
  MISSING_RECIPIENT: 'UCXL-500-MISSING_RECIPIENT',
  DATA_DIR_NOT_WRITABLE: 'UCXL-500-DATA_DIR_NOT_WRITABLE',
  QUORUM_NOT_REACHED: 'UCXL-503-QUORUM_NOT_REACHED',
  NOT_STARTED: 'UCXL-503-NOT_STARTED',
  TIMEOUT: 'UCXL-504-TIMEOUT',
  INSUFFICIENT_STORAGE: 'UCXL-507-INSUFFICIENT_STORAGE'
} as const
export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[keyof typeof STORAGE_ERROR_CODES]
const C = STORAGE_ERROR_CODES

/** Options every storage error takes. */
export interface StorageErrorOptions {
  cause?: unknown
}

/** The base of this package's errors (and, with its code, of what it wraps). */
export class StorageError extends ChorusError {
  constructor(message: string, code: string, options?: StorageErrorOptions) {
    super(message, { code, cause: options?.cause })
  }
}

/** The address does not parse, or cannot be used for this operation (e.g. a wildcard on store). */
export class InvalidAddressError extends StorageError {
  readonly address: string
  constructor(address: string, reason: string, options?: StorageErrorOptions) {
    super(`invalid UCXL address ${JSON.stringify(address)}: ${reason}`, C.INVALID_ADDRESS, options)
    this.address = address
  }
}

/** No version of the address (or not the requested one) exists locally or on the network. */
export class ContentNotFoundError extends StorageError {
  readonly address: string
  constructor(address: string, reason = 'no stored version was found', options?: StorageErrorOptions) {
    super(`content not found for ${address}: ${reason}`, C.NOT_FOUND, options)
    this.address = address
  }
}

/**
 * The address was deleted: its chain ends in a tombstone at `version` (a read of the latest, of the
 * tombstone's own version, or, after a purge, of a version before it). A write after the tombstone
 * starts version `version + 1`, readable again.
 */
export class ContentDeletedError extends StorageError {
  readonly address: string
  /** The tombstone's version. */
  readonly version: number
  constructor(address: string, version: number, options?: StorageErrorOptions) {
    super(`content at ${address} was deleted at version ${version}`, C.DELETED, options)
    this.address = address
    this.version = version
  }
}

/** None of the role keys this node holds opens the content, or the node may not act as the role. */
export class AccessDeniedError extends StorageError {
  readonly address: string
  constructor(address: string, reason: string, options?: StorageErrorOptions) {
    super(`access denied to ${address}: ${reason}`, C.ACCESS_DENIED, options)
    this.address = address
  }
}

/** The creator role has read-only authority and may not store content. */
export class ReadOnlyRoleError extends StorageError {
  readonly role: string
  constructor(role: string, options?: StorageErrorOptions) {
    super(`role ${role} has read-only authority and cannot store content`, C.READ_ONLY_ROLE, options)
    this.role = role
  }
}

/**
 * The creator role is not in the role registry. (Named apart from `@chorus/crypto`'s
 * `UnknownRoleError`, which storage maps to this one.)
 */
export class UnknownCreatorRoleError extends StorageError {
  readonly role: string
  constructor(role: string, options?: StorageErrorOptions) {
    super(`unknown role ${JSON.stringify(role)}`, C.UNKNOWN_ROLE, options)
    this.role = role
  }
}

/** The content is larger than `maxContentBytes`. */
export class ContentTooLargeError extends StorageError {
  readonly size: number
  readonly limit: number
  constructor(size: number, limit: number, options?: StorageErrorOptions) {
    super(`content is ${size} bytes, the limit is ${limit} bytes`, C.CONTENT_TOO_LARGE, options)
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
  constructor(address: string, reason: string, options?: StorageErrorOptions) {
    super(`integrity check failed for ${address}: ${reason}`, C.INTEGRITY, options)
    this.address = address
  }
}

/**
 * An operation did not finish within its timeout: the common `OperationTimeoutError` with
 * storage's code `UCXL-504-TIMEOUT`.
 */
export class StorageTimeoutError extends OperationTimeoutError {
  constructor(operation: string, ms: number, options?: StorageErrorOptions) {
    super(operation, ms, { code: C.TIMEOUT, cause: options?.cause })
  }
}

/** Fewer peers than the write quorum acknowledged a store (the record may still spread later). */
export class WriteQuorumError extends StorageError {
  readonly acks: number
  readonly required: number
  constructor(address: string, acks: number, required: number, options?: StorageErrorOptions) {
    super(
      `only ${acks} of the ${required} required peers acknowledged storing ${address}`,
      C.QUORUM_NOT_REACHED,
      options
    )
    this.acks = acks
    this.required = required
  }
}

/**
 * `announceContent` reached no peer: no peer acknowledged this node's provider record (a node
 * alone in its network, or every peer refused it). A `HybridDHT` below keeps the announcement in
 * its journal and sends it again once peers answer.
 */
export class AnnounceNotAcknowledgedError extends StorageError {
  readonly address: string
  constructor(address: string, options?: StorageErrorOptions) {
    super(`no peer acknowledged the announcement of ${address}`, C.QUORUM_NOT_REACHED, options)
    this.address = address
  }
}

/**
 * The storage was used before `start()` or after `stop()`: the common `NotStartedError` with
 * storage's code `UCXL-503-NOT_STARTED`.
 */
export class StorageNotStartedError extends NotStartedError {
  constructor() {
    super('encrypted storage', {
      code: C.NOT_STARTED,
      message: 'encrypted storage is not started; call start() first'
    })
  }
}

/** A byte string is not a well-formed CHORUS envelope (thrown by `decodeEnvelope`). */
export class MalformedEnvelopeError extends StorageError {
  constructor(reason: string, options?: StorageErrorOptions) {
    super(`malformed envelope: ${reason}`, C.MALFORMED_ENVELOPE, options)
  }
}

/** An envelope is well formed but its signature, hash or key does not check out. */
export class InvalidEnvelopeError extends StorageError {
  constructor(reason: string, options?: StorageErrorOptions) {
    super(`invalid envelope: ${reason}`, C.INTEGRITY, options)
  }
}

/** The content type is not 1 to 64 characters of `[A-Za-z0-9_.+/-]`. */
export class InvalidContentTypeError extends StorageError {
  constructor(contentType: string, options?: StorageErrorOptions) {
    super(
      `invalid content type ${JSON.stringify(contentType.slice(0, 80))}: use 1 to 64 characters of A-Z a-z 0-9 _ . + / -`,
      C.INVALID_CONTENT_TYPE,
      options
    )
  }
}

/**
 * Content stored as content type `decision` is not a decision record (`@chorus/ucxl`'s
 * `DecisionSchema`): `field` names the first bad field (`task`, `author.role`, `references.1`, or
 * `(root)` when the content is not UTF-8 JSON of an object). The message never quotes the content.
 */
export class InvalidDecisionError extends StorageError {
  readonly field: string
  readonly reason: string
  constructor(field: string, reason: string, options?: StorageErrorOptions) {
    super(`invalid decision: ${field}: ${reason}`, C.INVALID_DECISION, options)
    this.field = field
    this.reason = reason
  }
}

/** The disk under the data directory is full (ENOSPC, EDQUOT, SQLITE_FULL): nothing was written. */
export class InsufficientStorageError extends StorageError {
  readonly dataDir: string
  constructor(dataDir: string, options?: StorageErrorOptions) {
    super(
      `no space left on the disk of the data directory ${dataDir}: free some space and retry`,
      C.INSUFFICIENT_STORAGE,
      options
    )
    this.dataDir = dataDir
  }
}

/** The data directory cannot be written (read-only file system, permissions, SQLITE_READONLY). */
export class DataDirNotWritableError extends StorageError {
  readonly dataDir: string
  constructor(dataDir: string, options?: StorageErrorOptions) {
    super(
      `the data directory ${dataDir} is not writable (read-only file system or permissions)`,
      C.DATA_DIR_NOT_WRITABLE,
      options
    )
    this.dataDir = dataDir
  }
}

/**
 * True for every error this package defines: the `StorageError` family and the two on the common
 * generic errors (`StorageTimeoutError`, `StorageNotStartedError`).
 */
export function isStorageError(
  err: unknown
): err is StorageError | StorageTimeoutError | StorageNotStartedError {
  return (
    StorageError.isInstance(err) ||
    StorageTimeoutError.isInstance(err) ||
    StorageNotStartedError.isInstance(err)
  )
}

const FULL_ERRNO = new Set(['ENOSPC', 'EDQUOT'])
const READONLY_ERRNO = new Set(['EROFS', 'EACCES', 'EPERM'])
// SQLite primary result codes (node:sqlite puts them in `errcode`, possibly extended)
const SQLITE_READONLY = 8
const SQLITE_CANTOPEN = 14
const SQLITE_FULL = 13

/**
 * Maps a full or read-only disk error (the platform's errno codes, node:sqlite result codes,
 * anywhere in the `cause` chain) to `InsufficientStorageError` / `DataDirNotWritableError`;
 * undefined otherwise. `cantOpenIsReadOnly`: an SQLite database that cannot be opened at start
 * means the directory cannot be written.
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
    // some stores (LevelDB, which older DHT datastores were) report I/O errors by message only
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
