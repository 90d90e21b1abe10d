import { join } from 'node:path'
import { inspect } from 'node:util'
import type { X25519Identity, X25519Recipient } from './age/x25519.js'
import { KeyFormatError } from './errors.js'
import {
  ensureKeyDir,
  IDENTITY_FILE_SUFFIX,
  type IdentityFileEntry,
  listIdentityFiles,
  readIdentityFile,
  writeIdentityFile
} from './identity-file.js'
import {
  checkRoleName,
  generateRoleKey,
  identityOf,
  type KeyStatus,
  type RoleKey,
  type RoleKeyInfo,
  recipientOf,
  roleKeyFromIdentity,
  roleKeyFromRecipient
} from './keys.js'

/** Options for adding a key: its creation date (for rotation) and status. */
export interface AddKeyOptions {
  /** Default: now (or the key's own createdAt when a RoleKey is given). */
  createdAt?: Date
  /** Default `current`. */
  status?: KeyStatus
}

/**
 * The keys a node knows: public recipients for every role it may encrypt to, and private
 * identities for the roles it plays. A role may have several keys (rotation): new content goes to
 * its `current` keys, and any held identity, current or retired, opens old content.
 */
export interface RoleKeyring {
  /** Adds (or updates the status of) a public key for a role. */
  addRecipient(role: string, recipient: string, options?: AddKeyOptions): RoleKeyInfo
  /** Adds a private key: a RoleKey carrying an identity, or a role and an `AGE-SECRET-KEY-1…`. */
  addIdentity(key: RoleKey, options?: AddKeyOptions): RoleKeyInfo
  addIdentity(role: string, identity: string, options?: AddKeyOptions): RoleKeyInfo
  /** Whether this node holds a private key of the role. */
  holdsRole(role: string): boolean
  /** Whether this node holds the private key with this id (what a cache of opened content checks). */
  holdsKey(keyId: string): boolean
  /** The roles this node plays (holds an identity for), sorted. */
  roles(): string[]
  /** Roles with at least one current recipient, sorted. */
  recipientRoles(): string[]
  /** Public info of the role's keys (all roles when omitted), newest first. */
  keys(role?: string): RoleKeyInfo[]
  /** Public info of the role's current keys. */
  currentKeys(role: string): RoleKeyInfo[]
  /**
   * Makes a new key for the role, held by this node, as its current key. Previous current keys
   * become retired (decrypt-only) unless `retirePrevious: false` keeps them current too.
   */
  rotate(role: string, options?: { retirePrevious?: boolean; createdAt?: Date }): RoleKey
  /** Marks a key retired: it no longer receives content but still opens old content. */
  retire(role: string, keyId: string): void
  /** Removes a key entirely (old content for it can no longer be opened here). */
  remove(role: string, keyId: string): boolean
  /** True when the role's newest current key is older than `intervalMs` (or it has none). */
  rotationDue(role: string, intervalMs: number, now?: Date): boolean
  /** Public keys to share with other nodes (no secrets). */
  exportRecipients(): RoleKeyInfo[]
  /** Writes one `<role>.key` identity file per held role into `dir` (0700), files 0600. */
  saveIdentities(dir: string, options?: { signal?: AbortSignal }): Promise<string[]>
  /** Loads every `*.key` identity file in `dir`; refuses group/world-accessible ones. */
  loadIdentities(dir: string, options?: { signal?: AbortSignal }): Promise<RoleKeyInfo[]>
  /** Loads one identity file (role from `# role:` comments, else `options.role`, else the file name). */
  loadIdentityFile(path: string, options?: { role?: string; signal?: AbortSignal }): Promise<RoleKeyInfo[]>
}

interface Entry {
  key: RoleKey
  recipient: X25519Recipient
  identity: X25519Identity | undefined
  status: KeyStatus
}

/** @internal what AgeCrypto reads from a keyring. */
export interface KeyringView {
  currentRecipients(role: string): X25519Recipient[]
  /** Held identities, roles in sorted order, current keys before retired, newest first. */
  heldIdentities(): { role: string; keyId: string; identity: X25519Identity }[]
}

export const KEYRING_VIEW: unique symbol = Symbol('chorus.keyring.view')

function info(e: Entry): RoleKeyInfo {
  return {
    id: e.key.id,
    role: e.key.role,
    recipient: e.key.recipient,
    createdAt: e.key.createdAt.toISOString(),
    status: e.status,
    hasIdentity: e.identity !== undefined
  }
}

class Keyring implements RoleKeyring {
  readonly #byRole = new Map<string, Entry[]>()
  #heldCache: ReturnType<KeyringView['heldIdentities']> | undefined

  readonly [KEYRING_VIEW]: KeyringView = {
    currentRecipients: (role) =>
      (this.#byRole.get(role) ?? []).filter((e) => e.status === 'current').map((e) => e.recipient),
    heldIdentities: () => {
      this.#heldCache ??= [...this.#byRole.keys()].sort().flatMap((role) =>
        this.#sorted(role)
          .filter((e) => e.identity !== undefined)
          .sort((a, b) => (a.status === b.status ? 0 : a.status === 'current' ? -1 : 1))
          .map((e) => ({ role, keyId: e.key.id, identity: e.identity as X25519Identity }))
      )
      return this.#heldCache
    }
  }

  #sorted(role: string): Entry[] {
    return [...(this.#byRole.get(role) ?? [])].sort(
      (a, b) => b.key.createdAt.getTime() - a.key.createdAt.getTime()
    )
  }

  #put(key: RoleKey, status: KeyStatus): RoleKeyInfo {
    this.#heldCache = undefined
    const list = this.#byRole.get(key.role) ?? []
    const existing = list.find((e) => e.key.id === key.id)
    const identity = identityOf(key)
    if (existing !== undefined) {
      existing.status = status
      if (identity !== undefined && existing.identity === undefined) {
        existing.identity = identity
        existing.key = key
      }
      return info(existing)
    }
    const entry: Entry = { key, recipient: recipientOf(key), identity, status }
    list.push(entry)
    this.#byRole.set(key.role, list)
    return info(entry)
  }

  addRecipient(role: string, recipient: string, options: AddKeyOptions = {}): RoleKeyInfo {
    return this.#put(roleKeyFromRecipient(role, recipient, options), options.status ?? 'current')
  }

  addIdentity(
    keyOrRole: RoleKey | string,
    identityOrOptions?: string | AddKeyOptions,
    maybe?: AddKeyOptions
  ) {
    if (typeof keyOrRole === 'string') {
      if (typeof identityOrOptions !== 'string') {
        throw new KeyFormatError(
          'addIdentity(role, identity): the identity must be an AGE-SECRET-KEY-1… string'
        )
      }
      const key = roleKeyFromIdentity(keyOrRole, identityOrOptions, maybe ?? {})
      return this.#put(key, maybe?.status ?? 'current')
    }
    const options = (identityOrOptions ?? {}) as AddKeyOptions
    if (identityOf(keyOrRole) === undefined) {
      throw new KeyFormatError(`key ${keyOrRole.id} carries no identity; use addRecipient for public keys`)
    }
    return this.#put(keyOrRole, options.status ?? 'current')
  }

  holdsRole(role: string): boolean {
    return (this.#byRole.get(role) ?? []).some((e) => e.identity !== undefined)
  }

  holdsKey(keyId: string): boolean {
    for (const list of this.#byRole.values()) {
      if (list.some((e) => e.key.id === keyId && e.identity !== undefined)) return true
    }
    return false
  }

  roles(): string[] {
    return [...this.#byRole.keys()].filter((r) => this.holdsRole(r)).sort()
  }

  recipientRoles(): string[] {
    return [...this.#byRole.entries()]
      .filter(([, list]) => list.some((e) => e.status === 'current'))
      .map(([r]) => r)
      .sort()
  }

  keys(role?: string): RoleKeyInfo[] {
    const roles = role === undefined ? [...this.#byRole.keys()].sort() : [role]
    return roles.flatMap((r) => this.#sorted(r).map(info))
  }

  currentKeys(role: string): RoleKeyInfo[] {
    return this.keys(role).filter((k) => k.status === 'current')
  }

  rotate(role: string, options: { retirePrevious?: boolean; createdAt?: Date } = {}): RoleKey {
    checkRoleName(role)
    const key = generateRoleKey(role, { createdAt: options.createdAt ?? new Date() })
    if (options.retirePrevious !== false) {
      for (const e of this.#byRole.get(role) ?? []) e.status = 'retired'
    }
    this.#put(key, 'current')
    return key
  }

  retire(role: string, keyId: string): void {
    const e = (this.#byRole.get(role) ?? []).find((x) => x.key.id === keyId)
    if (e === undefined) throw new KeyFormatError(`no key ${keyId} for role ${role}`)
    e.status = 'retired'
    this.#heldCache = undefined
  }

  remove(role: string, keyId: string): boolean {
    const list = this.#byRole.get(role) ?? []
    const i = list.findIndex((x) => x.key.id === keyId)
    if (i < 0) return false
    list.splice(i, 1)
    if (list.length === 0) this.#byRole.delete(role)
    this.#heldCache = undefined
    return true
  }

  rotationDue(role: string, intervalMs: number, now: Date = new Date()): boolean {
    if (!Number.isFinite(intervalMs) || intervalMs <= 0)
      throw new RangeError('intervalMs must be a positive number')
    const newest = this.#sorted(role).find((e) => e.status === 'current')
    if (newest === undefined) return true
    return now.getTime() - newest.key.createdAt.getTime() >= intervalMs
  }

  exportRecipients(): RoleKeyInfo[] {
    return this.keys().map((k) => ({ ...k, hasIdentity: false }))
  }

  async saveIdentities(dir: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
    options.signal?.throwIfAborted()
    await ensureKeyDir(dir)
    const written: string[] = []
    for (const role of this.roles()) {
      options.signal?.throwIfAborted()
      const entries: IdentityFileEntry[] = this.#sorted(role)
        .filter((e) => e.identity !== undefined)
        .map((e) => ({ key: e.key, status: e.status }))
      const path = join(dir, `${role}${IDENTITY_FILE_SUFFIX}`)
      await writeIdentityFile(path, entries)
      written.push(path)
    }
    return written
  }

  async loadIdentities(dir: string, options: { signal?: AbortSignal } = {}): Promise<RoleKeyInfo[]> {
    options.signal?.throwIfAborted()
    const out: RoleKeyInfo[] = []
    for (const path of await listIdentityFiles(dir)) out.push(...(await this.loadIdentityFile(path, options)))
    return out
  }

  async loadIdentityFile(
    path: string,
    options: { role?: string; signal?: AbortSignal } = {}
  ): Promise<RoleKeyInfo[]> {
    options.signal?.throwIfAborted()
    const entries = await readIdentityFile(path, options.role === undefined ? {} : { role: options.role })
    return entries.map((e) => this.#put(e.key, e.status))
  }

  toJSON(): { roles: string[]; keys: RoleKeyInfo[] } {
    return { roles: this.roles(), keys: this.keys() }
  }

  toString(): string {
    return `RoleKeyring(roles held: ${this.roles().join(', ') || 'none'}; ${this.keys().length} keys)`
  }

  [inspect.custom](): string {
    return this.toString()
  }
}

/** An empty keyring. */
export function createKeyring(): RoleKeyring {
  return new Keyring()
}
