import { decryptAge, encryptAge } from './age/age.js'
import { type EphemeralKeySource, inlineEphemeralKeys, sharedEphemeralKeys } from './age/ephemeral-keys.js'
import type { X25519Recipient } from './age/x25519.js'
import { type AgeCryptoInit, ageCryptoDefaults } from './config.js'
import { DecryptionDeniedError, invalidInput, MissingRecipientError } from './errors.js'
import { KEYRING_VIEW, type KeyringView, type RoleKeyring } from './keyring.js'
import type { RoleRegistry } from './roles.js'

/** What createAgeCrypto needs. */
export interface AgeCryptoComponents {
  /** The roles in force (who may read whose content). */
  roles: RoleRegistry
  /** This node's keys: recipients of every role it encrypts to, identities of the roles it plays. */
  keyring: RoleKeyring
}

export interface EncryptContentOptions {
  /** Output ASCII armor (`-----BEGIN AGE ENCRYPTED FILE-----`) instead of binary. Default false. */
  armor?: boolean
  signal?: AbortSignal
}

export interface DecryptedContent {
  plaintext: Uint8Array
  /** The role whose key opened the content. */
  role: string
  /** The id of that key (see RoleKey.id). */
  keyId: string
}

export interface AgeCrypto {
  /** Encrypts for every role in `decryptableRoles(creatorRole)` (their current keys), in one age file. */
  encryptUCXLContent(
    content: Uint8Array | string,
    creatorRole: string,
    options?: EncryptContentOptions
  ): Promise<Uint8Array>
  /** Encrypts for the current keys of exactly these roles. */
  encryptForRoles(
    content: Uint8Array | string,
    roles: readonly string[],
    options?: EncryptContentOptions
  ): Promise<Uint8Array>
  /**
   * Decrypts (binary or armored, detected) with the identities this node holds. Throws
   * DecryptionDeniedError when none opens it and CiphertextIntegrityError when it is malformed or tampered.
   */
  decryptWithRole(ciphertext: Uint8Array, options?: { signal?: AbortSignal }): Promise<DecryptedContent>
  /** Whether `targetRole` may read content created by `creatorRole` (unknown roles throw). */
  canDecryptContent(targetRole: string, creatorRole: string): boolean
  /** The roles that may read content created by `creatorRole`. */
  decryptableRoles(creatorRole: string): string[]
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw invalidInput(field, 'must be a positive integer')
  return value
}

function toBytes(content: Uint8Array | string): Uint8Array {
  if (typeof content === 'string') return Buffer.from(content, 'utf8')
  if (content instanceof Uint8Array) return content
  throw invalidInput('content', 'must be a Uint8Array or a string')
}

class AgeCryptoImpl implements AgeCrypto {
  readonly #roles: RoleRegistry
  readonly #keys: KeyringView
  readonly #ephemeralKeys: EphemeralKeySource
  readonly #maxStanzas: number
  readonly #maxAttempts: number

  constructor(components: AgeCryptoComponents, init: AgeCryptoInit) {
    const view = (components.keyring as unknown as Record<symbol, KeyringView | undefined>)[KEYRING_VIEW]
    if (view === undefined) throw invalidInput('keyring', 'must come from createKeyring()')
    this.#roles = components.roles
    this.#keys = view
    const mode = init.ephemeralKeys ?? ageCryptoDefaults.ephemeralKeys
    if (mode !== 'precomputed' && mode !== 'inline') {
      throw invalidInput('ephemeralKeys', "must be 'precomputed' or 'inline'")
    }
    this.#ephemeralKeys = mode === 'inline' ? inlineEphemeralKeys : sharedEphemeralKeys()
    this.#maxStanzas = positiveInteger(
      init.maxRecipientStanzas ?? ageCryptoDefaults.maxRecipientStanzas,
      'maxRecipientStanzas'
    )
    this.#maxAttempts = positiveInteger(
      init.maxUnwrapAttempts ?? ageCryptoDefaults.maxUnwrapAttempts,
      'maxUnwrapAttempts'
    )
  }

  #recipients(roles: readonly string[]): X25519Recipient[] {
    const seen = new Set<string>()
    const out: X25519Recipient[] = []
    for (const role of roles) {
      this.#roles.get(role)
      const current = this.#keys.currentRecipients(role)
      if (current.length === 0) throw new MissingRecipientError(role)
      for (const r of current) {
        if (!seen.has(r.recipient)) {
          seen.add(r.recipient)
          out.push(r)
        }
      }
    }
    return out
  }

  async encryptUCXLContent(
    content: Uint8Array | string,
    creatorRole: string,
    options: EncryptContentOptions = {}
  ) {
    return this.encryptForRoles(content, this.#roles.decryptableRoles(creatorRole), options)
  }

  async encryptForRoles(
    content: Uint8Array | string,
    roles: readonly string[],
    options: EncryptContentOptions = {}
  ) {
    options.signal?.throwIfAborted()
    if (!Array.isArray(roles) || roles.length === 0) throw invalidInput('roles', 'must be a non-empty array')
    const recipients = this.#recipients(roles)
    if (recipients.length > this.#maxStanzas) {
      throw invalidInput(
        'roles',
        `have ${recipients.length} current keys, over the ${this.#maxStanzas} recipient limit`
      )
    }
    return await encryptAge(toBytes(content), recipients, {
      armor: options.armor === true,
      ephemeralKeys: this.#ephemeralKeys
    })
  }

  async decryptWithRole(
    ciphertext: Uint8Array,
    options: { signal?: AbortSignal } = {}
  ): Promise<DecryptedContent> {
    options.signal?.throwIfAborted()
    if (!(ciphertext instanceof Uint8Array)) throw invalidInput('ciphertext', 'must be a Uint8Array')
    const held = this.#keys.heldIdentities()
    try {
      const { plaintext, identityIndex } = await decryptAge(
        ciphertext,
        held.map((h) => h.identity),
        { maxStanzas: this.#maxStanzas, maxUnwrapAttempts: this.#maxAttempts }
      )
      const used = held[identityIndex] as (typeof held)[number]
      return { plaintext, role: used.role, keyId: used.keyId }
    } catch (err) {
      if (err instanceof DecryptionDeniedError) {
        const roles = [...new Set(held.map((h) => h.role))]
        throw new DecryptionDeniedError(
          roles.length === 0
            ? 'this node holds no role identities, so it cannot decrypt'
            : `none of this node's roles (${roles.join(', ')}) can decrypt this content`,
          roles
        )
      }
      throw err
    }
  }

  canDecryptContent(targetRole: string, creatorRole: string): boolean {
    return this.#roles.canDecrypt(targetRole, creatorRole)
  }

  decryptableRoles(creatorRole: string): string[] {
    return this.#roles.decryptableRoles(creatorRole)
  }
}

/** Role-based age encryption over a role registry and a keyring. */
export function createAgeCrypto(components: AgeCryptoComponents, init: AgeCryptoInit = {}): AgeCrypto {
  return new AgeCryptoImpl(components, init)
}
