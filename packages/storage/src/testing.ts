/**
 * Test and benchmark helpers for code built on @chorus/storage: real keys, real age crypto, real
 * Ed25519 signers, a started storage. Import from `@chorus/storage/testing`; never for production
 * nodes (keys live in memory only).
 */
import { generateKeyPairSync, sign } from 'node:crypto'
import {
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  generateRoleKey,
  getPredefinedRoles,
  type RoleKey
} from '@chorus/crypto'
import type { DHT, NodeSigner } from '@chorus/dht'
import type { RecordHolders } from './holders.js'
import type { WriteAuthority } from './record-check.js'
import { createEncryptedStorage } from './storage.js'
import type { EncryptedStorage, EncryptedStorageInit } from './types.js'

/** One age key per predefined role, shared by every node of a test (recipients public, identities per node). */
export function teamKeys(): Map<string, RoleKey> {
  return new Map(Object.keys(getPredefinedRoles()).map((role) => [role, generateRoleKey(role)]))
}

/** The real crypto of a node that holds the identities of `plays` and every role's recipient. */
export function nodeCrypto(keys: Map<string, RoleKey>, plays: string[]) {
  const roles = createRoleRegistry()
  const keyring = createKeyring()
  for (const [role, key] of keys) {
    if (plays.includes(role)) keyring.addIdentity(key)
    else keyring.addRecipient(role, key.recipient)
  }
  return { roles, keyring, crypto: createAgeCrypto({ roles, keyring }) }
}

/** A real Ed25519 signer (node:crypto), as LibP2PDHT.signer is for a network node. */
export function makeSigner(): NodeSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const x = publicKey.export({ format: 'jwk' }).x
  if (x === undefined) throw new Error('no public key')
  return {
    publicKey: new Uint8Array(Buffer.from(x, 'base64url')),
    async sign(data: Uint8Array) {
      return new Uint8Array(sign(null, data, privateKey))
    }
  }
}

/** A started storage on `dht` for a node that plays `plays`. */
export async function startStorage(opts: {
  dht: DHT
  signer: NodeSigner
  keys: Map<string, RoleKey>
  plays: string[]
  init: EncryptedStorageInit
  /** Who is reachable, to cap the write quorum (see EncryptedStorageComponents.peers). */
  peers?: { getConnectedPeers(): string[] }
  /** The team's write rule (team mode; see EncryptedStorageComponents.authority). */
  authority?: WriteAuthority
  /** This node's member certificate (see EncryptedStorageComponents.certificate). */
  certificate?: () => Uint8Array | undefined
  /** Who is known to hold each record (see EncryptedStorageComponents.holders). */
  holders?: RecordHolders
}): Promise<EncryptedStorage> {
  const { roles, keyring, crypto } = nodeCrypto(opts.keys, opts.plays)
  const storage = createEncryptedStorage(
    {
      dht: opts.dht,
      crypto,
      roles,
      keyring,
      signer: opts.signer,
      ...(opts.peers != null ? { peers: opts.peers } : {}),
      ...(opts.authority != null ? { authority: opts.authority } : {}),
      ...(opts.certificate != null ? { certificate: opts.certificate } : {}),
      ...(opts.holders != null ? { holders: opts.holders } : {})
    },
    opts.init
  )
  await storage.start()
  return storage
}
