// Shared fixtures of the reliability suite: real keys, real crypto, real storage, temp dirs.
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  generateRoleKey,
  getPredefinedRoles,
  type RoleKey
} from '@chorus/crypto'
import type { Dht, NodeSigner } from '@chorus/dht'
import { createEncryptedStorage, type EncryptedStorage, type EncryptedStorageInit } from '@chorus/storage'

/** One age key per predefined role (recipients shared, identities per node). */
export function teamKeys(): Map<string, RoleKey> {
  return new Map(Object.keys(getPredefinedRoles()).map((role) => [role, generateRoleKey(role)]))
}

/** Real crypto of a node that holds the identities of `plays` and every role's recipient. */
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
  peers?: { getConnectedPeers(): string[] }
}): Promise<EncryptedStorage> {
  const { roles, keyring, crypto } = nodeCrypto(opts.keys, opts.plays)
  const storage = createEncryptedStorage(
    {
      dht: opts.dht,
      crypto,
      roles,
      keyring,
      signer: opts.signer,
      ...(opts.peers != null ? { peers: opts.peers } : {})
    },
    opts.init
  )
  await storage.start()
  return storage
}

/** A real Ed25519 signer (node:crypto), like LibP2PDHT.signer. */
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

export function tempDir(prefix = 'chorus-rel-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls `check` until it returns true or `timeoutMs` passes; returns the time it took, or throws. */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  stepMs = 250
): Promise<number> {
  const start = Date.now()
  let last: unknown
  while (Date.now() - start < timeoutMs) {
    try {
      if (await check()) return Date.now() - start
    } catch (err) {
      last = err
    }
    await sleep(stepMs)
  }
  throw new Error(
    `${what}: not true after ${timeoutMs} ms${last != null ? ` (last error: ${String(last)})` : ''}`
  )
}

export const text = (b: Uint8Array): string => new TextDecoder().decode(b)
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
