/**
 * Maps what the layers below throw (`@chorus/crypto`, `@chorus/ucxl`, `@chorus/dht`, the disk) to
 * this package's errors, by class (`isInstance`), never by comparing names or codes.
 */
import { isAbortError } from '@chorus/common'
import {
  CiphertextIntegrityError,
  UnknownRoleError as CryptoUnknownRoleError,
  DecryptionDeniedError,
  MissingRecipientError
} from '@chorus/crypto'
import {
  NotFoundError as DHTNotFoundError,
  DHTTimeoutError,
  InvalidRecordError,
  NoPeersAcknowledgedError
} from '@chorus/dht'
import { UCXLAddressError } from '@chorus/ucxl'
import {
  AccessDeniedError,
  ContentNotFoundError,
  diskError,
  IntegrityError,
  InvalidAddressError,
  isStorageError,
  STORAGE_ERROR_CODES,
  StorageError,
  type StorageNotStartedError,
  StorageTimeoutError,
  UnknownCreatorRoleError,
  WriteQuorumError
} from './errors.js'

const C = STORAGE_ERROR_CODES

/** Any error this package throws from a public operation. */
export type AnyStorageError = StorageError | StorageTimeoutError | StorageNotStartedError

export interface ErrorMappingContext {
  /** The data directory, named by disk errors. */
  dataDir: string
  /** The write quorum a store needs now, named by `WriteQuorumError`. */
  requiredAcks(): number
  /** Called for an integrity failure of `address` (the facade drops its cache entries). */
  onIntegrityFailure?(address: string): void
}

/** The storage error for `err`, raised by an operation on `address`. Messages carry no secrets. */
export function toStorageError(err: unknown, address: string, ctx: ErrorMappingContext): AnyStorageError {
  const cause = { cause: err }
  const message = (err as { message?: unknown } | null)?.message
  const text = typeof message === 'string' ? message : undefined
  if (isStorageError(err)) {
    if (IntegrityError.isInstance(err)) ctx.onIntegrityFailure?.(address)
    return err
  }
  if (DecryptionDeniedError.isInstance(err))
    return new AccessDeniedError(address, 'no role key held by this node opens the content', cause)
  if (CiphertextIntegrityError.isInstance(err)) {
    ctx.onIntegrityFailure?.(address)
    return new IntegrityError(address, 'the ciphertext does not decrypt', cause)
  }
  if (MissingRecipientError.isInstance(err))
    return new StorageError(text ?? 'no recipient key', C.MISSING_RECIPIENT, cause)
  if (CryptoUnknownRoleError.isInstance(err)) return new UnknownCreatorRoleError(err.role, cause)
  if (DHTTimeoutError.isInstance(err)) return new StorageTimeoutError(`DHT operation on ${address}`, 0, cause)
  if (NoPeersAcknowledgedError.isInstance(err))
    return new WriteQuorumError(address, 0, Math.max(1, ctx.requiredAcks()), cause)
  if (DHTNotFoundError.isInstance(err)) return new ContentNotFoundError(address, undefined, cause)
  if (InvalidRecordError.isInstance(err)) return new IntegrityError(address, text ?? 'record refused', cause)
  if (UCXLAddressError.isInstance(err)) return new InvalidAddressError(address, err.message, cause)
  if (isAbortError(err)) {
    const out = new StorageError(text ?? 'aborted', C.ABORTED, cause)
    // Callers (the HTTP API) tell an abort by this name, as they do the platform's.
    out.name = 'AbortError'
    return out
  }
  const disk = diskError(err, ctx.dataDir)
  if (disk !== undefined) return disk
  if (err instanceof TypeError) return new StorageError(err.message, C.BAD_REQUEST, cause)
  return new StorageError(text ?? String(err), C.INTERNAL, cause)
}

/** True when the layer below reported "nothing under this key" (the dht's not-found error). */
export function isDHTNotFound(err: unknown): boolean {
  return DHTNotFoundError.isInstance(err)
}

/** True when a network put reached no peer (the dht's no-acknowledgement error). */
export function isNoPeersAcknowledged(err: unknown): boolean {
  return NoPeersAcknowledgedError.isInstance(err)
}
