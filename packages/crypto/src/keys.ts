import { createHash } from 'node:crypto'
import { inspect } from 'node:util'
import {
  generateIdentity,
  parseIdentity,
  parseRecipient,
  type X25519Identity,
  type X25519Recipient
} from './age/x25519.js'
import { KeyFormatError } from './errors.js'
import { ROLE_NAME } from './roles.js'

/** `current` keys receive new content; `retired` keys only open old content. */
export type KeyStatus = 'current' | 'retired'

/**
 * A role key: its public half and metadata. A key made by {@link generateRoleKey} (or loaded from
 * an identity file) also carries the private identity, which no property, `toString`, JSON or
 * `util.inspect` ever shows; only a keyring uses it, and only `saveIdentities` writes it out.
 */
export interface RoleKey {
  /** Stable id derived from the public key: the first 16 hex digits of SHA-256(recipient). */
  readonly id: string
  readonly role: string
  /** The age X25519 recipient, `age1…`. */
  readonly recipient: string
  readonly createdAt: Date
  /** Whether this object carries the private identity. */
  readonly hasIdentity: boolean
}

/** JSON-safe public description of a key held in a keyring. */
export interface RoleKeyInfo {
  id: string
  role: string
  recipient: string
  createdAt: string
  status: KeyStatus
  hasIdentity: boolean
}

export function keyIdOf(recipient: string): string {
  return createHash('sha256').update(recipient).digest('hex').slice(0, 16)
}

export function checkRoleName(role: string): string {
  if (typeof role !== 'string' || !ROLE_NAME.test(role)) {
    throw new KeyFormatError(
      `invalid role name ${JSON.stringify(String(role).slice(0, 80))} (use [A-Za-z0-9_-], 1-64 characters)`
    )
  }
  return role
}

const secrets = new WeakMap<RoleKey, X25519Identity>()
const publics = new WeakMap<RoleKey, X25519Recipient>()

class Key implements RoleKey {
  readonly id: string
  readonly role: string
  readonly recipient: string
  readonly createdAt: Date

  constructor(role: string, recipient: X25519Recipient, createdAt: Date, identity?: X25519Identity) {
    this.role = checkRoleName(role)
    this.recipient = recipient.recipient
    this.id = keyIdOf(recipient.recipient)
    this.createdAt = new Date(createdAt.getTime())
    publics.set(this, recipient)
    if (identity !== undefined) secrets.set(this, identity)
    Object.freeze(this)
  }

  get hasIdentity(): boolean {
    return secrets.has(this)
  }

  toJSON(): Omit<RoleKeyInfo, 'status'> {
    const { id, role, recipient, hasIdentity } = this
    return { id, role, recipient, createdAt: this.createdAt.toISOString(), hasIdentity }
  }

  toString(): string {
    return `RoleKey(${this.role} ${this.id} ${this.recipient})`
  }

  [inspect.custom](): string {
    return this.toString()
  }
}

/** Generates a fresh age X25519 key for `role` (identity kept inside, never shown). */
export function generateRoleKey(role: string, options: { createdAt?: Date } = {}): RoleKey {
  const identity = generateIdentity()
  return new Key(role, identity, options.createdAt ?? new Date(), identity)
}

/** A role key from a secret `AGE-SECRET-KEY-1…` string. The string is not kept. */
export function roleKeyFromIdentity(
  role: string,
  identity: string,
  options: { createdAt?: Date } = {}
): RoleKey {
  const parsed = parseIdentity(identity)
  return new Key(role, parsed, options.createdAt ?? new Date(), parsed)
}

/** A public-only role key from an `age1…` recipient. */
export function roleKeyFromRecipient(
  role: string,
  recipient: string,
  options: { createdAt?: Date } = {}
): RoleKey {
  return new Key(role, parseRecipient(recipient), options.createdAt ?? new Date())
}

/** @internal a role key from an already parsed identity. */
export function roleKeyFromParsedIdentity(role: string, identity: X25519Identity, createdAt: Date): RoleKey {
  return new Key(role, identity, createdAt, identity)
}

/** @internal the private identity of a key, for the keyring and identity files only. */
export function identityOf(key: RoleKey): X25519Identity | undefined {
  return secrets.get(key)
}

/** @internal the parsed recipient (cached public KeyObject) of a key. */
export function recipientOf(key: RoleKey): X25519Recipient {
  const r = publics.get(key)
  if (r === undefined) return parseRecipient(key.recipient)
  return r
}
