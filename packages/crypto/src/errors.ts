/**
 * One error class per condition, each with a stable `name` and `code` on the common
 * `ChorusError` base. Messages never carry key material: identities are never echoed, only role
 * names, key ids, paths and recipients. Bad arguments are the shared `InvalidInputError` with code
 * `CRYPTO_INVALID_INPUT`.
 */
import { ChorusError, InvalidInputError } from '@chorus/common'

export { InvalidInputError }

/** Every code this package's errors carry. */
export const CRYPTO_ERROR_CODES = {
  ACCESS_DENIED: 'CRYPTO_ACCESS_DENIED',
  INTEGRITY: 'CRYPTO_INTEGRITY',
  UNKNOWN_ROLE: 'CRYPTO_UNKNOWN_ROLE',
  NO_RECIPIENT: 'CRYPTO_NO_RECIPIENT',
  KEY_FORMAT: 'CRYPTO_KEY_FORMAT',
  KEY_FILE: 'CRYPTO_KEY_FILE',
  ROLES_FILE: 'CRYPTO_ROLES_FILE',
  INVALID_INPUT: 'CRYPTO_INVALID_INPUT'
} as const
export type CryptoErrorCode = (typeof CRYPTO_ERROR_CODES)[keyof typeof CRYPTO_ERROR_CODES]
const C = CRYPTO_ERROR_CODES

/** Options every crypto error takes. */
interface CauseOptions {
  cause?: unknown
}

/** The base of this package's errors. */
export abstract class CryptoError extends ChorusError {}

/** A bad argument: the shared `InvalidInputError` with this package's code. */
export function invalidInput(field: string, reason: string): InvalidInputError {
  return new InvalidInputError(field, reason, { code: C.INVALID_INPUT, message: `${field} ${reason}` })
}

/** No identity this node holds opens the ciphertext (it was not encrypted for our roles/keys). */
export class DecryptionDeniedError extends CryptoError {
  /** Roles whose identities were tried (empty when the keyring holds none). */
  readonly triedRoles: string[]

  constructor(message: string, triedRoles: string[] = [], options?: CauseOptions) {
    super(message, { code: C.ACCESS_DENIED, cause: options?.cause })
    this.triedRoles = triedRoles
  }
}

/**
 * Where an age file failed to verify:
 * - `armor`: the ASCII armor is malformed;
 * - `header`: the header (or a recipient stanza, or the payload nonce) is malformed;
 * - `hmac`: the header MAC does not verify (the header was changed);
 * - `payload`: a payload chunk does not authenticate, is missing, or data trails the last chunk.
 */
export type IntegrityFailure = 'armor' | 'header' | 'hmac' | 'payload'

/** The ciphertext is malformed or was tampered with. No plaintext is ever released with it. */
export class CiphertextIntegrityError extends CryptoError {
  readonly reason: IntegrityFailure

  constructor(reason: IntegrityFailure, message: string, options?: CauseOptions) {
    super(`age ${reason} failure: ${message}`, { code: C.INTEGRITY, cause: options?.cause })
    this.reason = reason
  }
}

/** A role name that the role registry does not define. Unknown roles are never allowed silently. */
export class UnknownRoleError extends CryptoError {
  readonly role: string

  constructor(role: string, options?: CauseOptions) {
    super(`Unknown role ${JSON.stringify(String(role).slice(0, 100))}`, {
      code: C.UNKNOWN_ROLE,
      cause: options?.cause
    })
    this.role = String(role).slice(0, 100)
  }
}

/** Encryption for a role was asked but the keyring has no current recipient (public key) for it. */
export class MissingRecipientError extends CryptoError {
  readonly role: string

  constructor(role: string, options?: CauseOptions) {
    super(`No current recipient key for role ${JSON.stringify(role)}: add one to the keyring first`, {
      code: C.NO_RECIPIENT,
      cause: options?.cause
    })
    this.role = role
  }
}

/** A key string (recipient or identity) is malformed or of an unsupported type. Never echoes secrets. */
export class KeyFormatError extends CryptoError {
  constructor(message: string, options?: CauseOptions) {
    super(message, { code: C.KEY_FORMAT, cause: options?.cause })
  }
}

/** A key file cannot be read, written, parsed, or has unsafe permissions. */
export class KeyFileError extends CryptoError {
  readonly path: string
  /** 1-based line in the file, when the problem is on a line. */
  readonly line: number | undefined

  constructor(path: string, message: string, options?: { cause?: unknown; line?: number }) {
    super(`${path}${options?.line === undefined ? '' : `:${options.line}`}: ${message}`, {
      code: C.KEY_FILE,
      cause: options?.cause
    })
    this.path = path
    this.line = options?.line
  }
}

/** A roles file (or a role definition given in code) is invalid; names the field and line. */
export class RolesFileError extends CryptoError {
  /** The file, or `<inline>` for definitions given in code. */
  readonly source: string
  /** Dotted path of the offending field, e.g. `roles.release_manager.authority`. */
  readonly field: string
  /** 1-based line and column, when known. */
  readonly line: number | undefined
  readonly column: number | undefined
  readonly reason: string

  constructor(
    source: string,
    field: string,
    reason: string,
    options?: { cause?: unknown; line?: number; column?: number }
  ) {
    const where = options?.line === undefined ? '' : `:${options.line}:${options.column ?? 1}`
    super(`${source}${where}: ${field || '(root)'}: ${reason}`, {
      code: C.ROLES_FILE,
      cause: options?.cause
    })
    this.source = source
    this.field = field
    this.reason = reason
    this.line = options?.line
    this.column = options?.column
  }
}
