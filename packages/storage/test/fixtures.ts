import {
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  generateRoleKey,
  getPredefinedRoles,
  type RoleKey
} from '@chorus/crypto'
import type { Dht, NodeSigner } from '@chorus/dht'
import { createEncryptedStorage, type EncryptedStorage, type EncryptedStorageInit } from '../src/index.js'

/** One age key per predefined role, shared by every node of a test (recipients public, identities per node). */
export function teamKeys(): Map<string, RoleKey> {
  return new Map(Object.keys(getPredefinedRoles()).map((role) => [role, generateRoleKey(role)]))
}

/** The real crypto of a node that plays `plays` and knows every role's public key. */
export function nodeCrypto(keys: Map<string, RoleKey>, plays: string[]) {
  const roles = createRoleRegistry()
  const keyring = createKeyring()
  for (const [role, key] of keys) {
    if (plays.includes(role)) keyring.addIdentity(key)
    else keyring.addRecipient(role, key.recipient)
  }
  return { roles, keyring, crypto: createAgeCrypto({ roles, keyring }) }
}

export async function startStorage(opts: {
  dht: Dht
  signer: NodeSigner
  keys: Map<string, RoleKey>
  plays: string[]
  init: EncryptedStorageInit
}): Promise<EncryptedStorage> {
  const { roles, keyring, crypto } = nodeCrypto(opts.keys, opts.plays)
  const storage = createEncryptedStorage(
    { dht: opts.dht, crypto, roles, keyring, signer: opts.signer },
    opts.init
  )
  await storage.start()
  return storage
}
