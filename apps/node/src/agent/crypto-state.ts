/**
 * The agent's crypto state: the role registry (roles file), the keyring (its identities and the
 * other roles' recipients), the age crypto over both, and the roles it holds. `reload()` builds a
 * new state and swaps it in only when it is valid, so SIGHUP can change roles and recipients
 * while storage keeps running on the accessors of {@link AgentKeys.storageComponents}.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '@chorus/common'
import {
  type AgeCrypto,
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  generateRoleKey,
  loadRolesFile,
  type RoleKeyring,
  type RoleRegistry
} from '@chorus/crypto'
import type { EncryptedStorageComponents } from '@chorus/storage'
import type { TeamPolicy } from '@chorus/team'
import type { NodeConfig } from '../config/schema.js'
import { AGENT_ERROR_CODES, AgentError, ConfigError } from '../errors.js'
import { ensurePrivateDir, writableByOthers } from '../util/files.js'
import { addToRecipientsFile, type Recipients, readRecipientsFile } from './keys.js'

/** The file in the keys directory where the agent keeps the recipients it generated or learned. */
export const LOCAL_RECIPIENTS = 'recipients.yaml'

export interface CryptoState {
  registry: RoleRegistry
  keyring: RoleKeyring
  crypto: AgeCrypto
  /** Roles whose identity this agent holds. */
  held: string[]
}

/** The settings the crypto state is built from (all of them reloaded on SIGHUP). */
export type CryptoConfig = Pick<NodeConfig, 'role' | 'rolesFile' | 'keys'>

export async function loadRegistry(config: CryptoConfig): Promise<RoleRegistry> {
  let registry: RoleRegistry
  const loose = config.rolesFile === '' ? undefined : writableByOthers(config.rolesFile)
  if (loose !== undefined) throw new ConfigError([`roles file ${loose}`])
  try {
    registry = config.rolesFile === '' ? createRoleRegistry() : await loadRolesFile(config.rolesFile)
  } catch (err) {
    throw new ConfigError([`roles file ${config.rolesFile}: ${(err as Error).message}`], { cause: err })
  }
  if (!registry.has(config.role)) {
    throw new ConfigError([
      `role ${JSON.stringify(config.role)} is not a known role (${registry
        .list()
        .map((r) => r.name)
        .join(', ')})`
    ])
  }
  return registry
}

/** Generate a key for `role` into its own keyring directory and name its recipient locally. */
async function generateInto(dir: string, role: string, recipientsFile: string): Promise<string> {
  ensurePrivateDir(dir)
  const ring = createKeyring()
  const key = generateRoleKey(role)
  ring.addIdentity(key)
  await ring.saveIdentities(dir)
  addToRecipientsFile(recipientsFile, role, key.recipient)
  return key.recipient
}

/** Roles, keyring and crypto from the roles file, the identities directory and the recipients files. */
export async function loadCryptoState(config: CryptoConfig, log: Logger): Promise<CryptoState> {
  const registry = await loadRegistry(config)
  const keysDir = config.keys.dir
  ensurePrivateDir(keysDir)
  const keyring = createKeyring()
  await keyring.loadIdentities(keysDir)
  const localRecipients = join(keysDir, LOCAL_RECIPIENTS)
  const generated: string[] = []
  if (!keyring.holdsRole(config.role)) {
    if (!config.keys.generate) {
      throw new ConfigError([`no identity for role ${config.role} in ${keysDir} and keys.generate is false`])
    }
    const key = generateRoleKey(config.role)
    keyring.addIdentity(key)
    await keyring.saveIdentities(keysDir)
    addToRecipientsFile(localRecipients, config.role, key.recipient)
    generated.push(config.role)
  }

  const recipients: Recipients = {}
  const files = [...(existsSync(localRecipients) ? [localRecipients] : []), ...config.keys.recipients]
  for (const file of files) {
    for (const [role, list] of Object.entries(readRecipientsFile(file))) {
      recipients[role] = [...new Set([...(recipients[role] ?? []), ...list])]
    }
  }
  // Embedded defaults (no recipients file given): generate the other readers' keys locally, into
  // <keys>/team/, so that a lone agent can store at once. A team shares a recipients file instead.
  if (config.keys.recipients.length === 0 && config.keys.generate) {
    for (const role of registry.decryptableRoles(config.role)) {
      if (recipients[role] !== undefined && recipients[role].length > 0) continue
      recipients[role] = [await generateInto(join(keysDir, 'team', role), role, localRecipients)]
      generated.push(role)
    }
  }
  for (const [role, list] of Object.entries(recipients)) {
    if (!registry.has(role)) {
      log.warn({ role }, 'recipients file names a role the registry does not know; ignored')
      continue
    }
    for (const r of list) keyring.addRecipient(role, r)
  }
  if (generated.length > 0) log.info({ roles: generated, keysDir }, 'generated role keys')
  const missing = registry
    .decryptableRoles(config.role)
    .filter((r) => (recipients[r] ?? []).length === 0 && !keyring.holdsRole(r))
  if (missing.length > 0 && registry.canStore(config.role)) {
    log.warn(
      { missing, recipientsFiles: config.keys.recipients },
      'no recipient for some roles that may read this role’s content: stores fail until a recipients file names them'
    )
  }
  const crypto = createAgeCrypto({ roles: registry, keyring })
  return { registry, keyring, crypto, held: keyring.roles() }
}

/**
 * The crypto state of a team member: roles and recipients come from the team's manifest only (a
 * local roles or recipients file grants nothing the manifest does not), identities from the keys
 * directory.
 */
export async function loadTeamCryptoState(
  config: CryptoConfig,
  policy: Pick<TeamPolicy, 'roleRegistry' | 'recipients'>,
  log: Logger
): Promise<CryptoState> {
  const registry = policy.roleRegistry()
  if (!registry.has(config.role)) {
    throw new ConfigError([`role ${JSON.stringify(config.role)} is not a role of the team's manifest`])
  }
  if (config.rolesFile !== '' || config.keys.recipients.length > 0) {
    log.warn(
      { rolesFile: config.rolesFile, recipients: config.keys.recipients },
      "roles and recipients files are ignored in a team: the team's manifest decides"
    )
  }
  const keysDir = config.keys.dir
  ensurePrivateDir(keysDir)
  const keyring = createKeyring()
  await keyring.loadIdentities(keysDir)
  for (const role of registry.list()) {
    for (const r of policy.recipients(role.name)) {
      try {
        keyring.addRecipient(role.name, r)
      } catch (err) {
        log.warn(
          { role: role.name, err: (err as Error).message },
          'manifest recipient refused by the keyring'
        )
      }
    }
  }
  // new content goes only to the keys the manifest says (current, or retired within an overlap):
  // a held identity of a retired key keeps opening old content, and receives nothing new
  for (const k of keyring.keys()) {
    if (!registry.has(k.role) || k.status !== 'current') continue
    const named = policy.recipients(k.role)
    if (named.length > 0 && !named.includes(k.recipient)) keyring.retire(k.role, k.id)
  }
  if (!keyring.holdsRole(config.role)) {
    log.warn(
      { role: config.role, keysDir },
      'this agent holds no identity of its role: it can write, but reads its role’s content only once a key is in its keys directory'
    )
  }
  const missing = registry.decryptableRoles(config.role).filter((r) => policy.recipients(r).length === 0)
  if (missing.length > 0 && registry.canStore(config.role)) {
    log.warn(
      { missing },
      'the team manifest names no current recipient for some readers: stores fail until it does'
    )
  }
  const crypto = createAgeCrypto({ roles: registry, keyring })
  return { registry, keyring, crypto, held: keyring.roles() }
}

/** What storage takes of the crypto state. */
export type StorageCryptoComponents = Pick<EncryptedStorageComponents, 'crypto' | 'roles' | 'keyring'>

/** Holds the current {@link CryptoState}; swaps it on reload. */
export class AgentKeys {
  #state: CryptoState | undefined
  readonly #log: Logger
  readonly #reloaded = new Set<() => void>()

  constructor(log: Logger) {
    this.#log = log
  }

  /** Roles held, `[]` before the first load. */
  get held(): string[] {
    return this.#state?.held ?? []
  }

  /** The current state; throws `AgentError` (AGENT_NOT_READY) before the first load. */
  current(): CryptoState {
    if (this.#state === undefined) {
      throw new AgentError('the agent is not started', { code: AGENT_ERROR_CODES.NOT_READY })
    }
    return this.#state
  }

  /**
   * Build the state from `config` (and the team's manifest, when the agent is a member) and swap
   * it in; on an error the current one stays.
   */
  async reload(
    config: CryptoConfig,
    policy?: Pick<TeamPolicy, 'roleRegistry' | 'recipients'>
  ): Promise<void> {
    this.#state =
      policy === undefined
        ? await loadCryptoState(config, this.#log)
        : await loadTeamCryptoState(config, policy, this.#log)
    for (const fn of this.#reloaded) fn()
  }

  /** Calls `fn` after each successful reload (storage drops what removed keys opened). */
  onReload(fn: () => void): void {
    this.#reloaded.add(fn)
  }

  /**
   * Storage's crypto, roles and keyring, reading the current state at each call (so a reload
   * reaches a running storage).
   */
  storageComponents(): StorageCryptoComponents {
    return {
      crypto: {
        encryptUCXLContent: (content, role) => this.current().crypto.encryptUCXLContent(content, role),
        decryptWithRole: (ct) => this.current().crypto.decryptWithRole(ct),
        decryptableRoles: (role) => this.current().crypto.decryptableRoles(role)
      },
      roles: {
        has: (name) => this.current().registry.has(name),
        canStore: (name) => this.current().registry.canStore(name)
      },
      keyring: {
        holdsRole: (role) => this.current().keyring.holdsRole(role),
        holdsKey: (keyId) => this.current().keyring.holdsKey(keyId)
      }
    }
  }
}
