/**
 * A peer that ignores its own rules: it signs whatever record it likes with its node key and
 * offers it to the network as kad-dht PUT_VALUEs. The demo and the team-trust tests use it to show
 * that the write rule holds on the honest nodes, not only in an honest writer's own code. Its
 * ciphertexts are real age ciphertexts for the team's recipients (taken from the public
 * manifest), so a record that got through would open for its readers.
 */

import { createHash } from 'node:crypto'
import { createAgeCrypto, createKeyring, type RoleRegistry } from '@chorus/crypto'
import { createLibP2PDHT, type LibP2PDHT, type PutResult } from '@chorus/dht'
import { permissiveRecords } from '@chorus/dht/testing'
import { ENVELOPE_FORMAT, headKey, signEnvelope, versionKey } from '@chorus/storage'
import { addressDigest, baseAddress, parseAddress } from '@chorus/ucxl'

export interface IntruderInit {
  dataDir: string
  /** The certificate it presents (another team's, a read-only member's, none at all). */
  certificate?: Uint8Array
  /** The team's roles and current recipients, as anyone who saw its manifest knows them. */
  roles: RoleRegistry
  recipients: (role: string) => string[]
  /** Peers to dial. */
  bootstrapPeers: string[]
}

export interface ForgeInput {
  /** Any UCXL address (its temporal segment is ignored). */
  address: string
  creatorRole: string
  content: string
  /** @default 1 */
  version?: number
  /** Hash of the previous version's envelope; null for version 1. @default null */
  previous?: Uint8Array | null
  /** The timestamp it claims. @default Date.now() */
  timestamp?: number
  /** Put a different certificate into the envelope than the one it presents. */
  certificate?: Uint8Array | null
}

export interface ForgedRecords {
  head: { key: string; value: Uint8Array }
  version: { key: string; value: Uint8Array }
  hash: Uint8Array
}

export interface Intruder {
  dht: LibP2PDHT
  readonly peerId: string
  /** Sign a record of its choosing (no policy of its own stops it). */
  forge(input: ForgeInput): Promise<ForgedRecords>
  /** kad-dht PUT_VALUE of one record to the peers closest to its key; resolves with the acks. */
  put(key: string, value: Uint8Array): Promise<PutResult | undefined>
  close(): Promise<void>
}

export async function startIntruder(init: IntruderInit): Promise<Intruder> {
  const certificate = init.certificate
  const dht = await createLibP2PDHT({
    dataDir: init.dataDir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrapPeers: init.bootstrapPeers,
    records: permissiveRecords,
    reputation: false,
    ...(certificate !== undefined
      ? {
          // it shows its certificate and lets anyone in
          admission: {
            certificate: () => certificate,
            admit: () => ({ agent: '', roles: [], notAfter: Infinity })
          }
        }
      : {})
  })
  await dht.start()
  const keyring = createKeyring()
  for (const role of init.roles.list())
    for (const r of init.recipients(role.name)) keyring.addRecipient(role.name, r)
  const crypto = createAgeCrypto({ roles: init.roles, keyring })
  return {
    dht,
    get peerId() {
      return dht.peerId
    },
    async forge(input: ForgeInput): Promise<ForgedRecords> {
      const parsed = parseAddress(input.address)
      const base = baseAddress(parsed)
      const digest = addressDigest(parsed)
      const plaintext = new TextEncoder().encode(input.content)
      const ciphertext = await crypto.encryptUCXLContent(plaintext, input.creatorRole)
      const version = input.version ?? 1
      const signed = await signEnvelope(
        {
          format: ENVELOPE_FORMAT,
          address: base,
          version,
          metadata: {
            creatorRole: input.creatorRole,
            encryptedFor: crypto.decryptableRoles(input.creatorRole),
            contentType: 'decision',
            timestamp: input.timestamp ?? Date.now(),
            size: plaintext.byteLength,
            ciphertextHash: new Uint8Array(createHash('sha256').update(ciphertext).digest())
          },
          ciphertext,
          author: dht.signer.publicKey,
          previous: input.previous ?? null,
          certificate: input.certificate !== undefined ? input.certificate : (certificate ?? null)
        },
        dht.signer
      )
      return {
        head: { key: headKey(digest), value: signed.bytes },
        version: { key: versionKey(digest, version), value: signed.bytes },
        hash: signed.hash
      }
    },
    async put(key: string, value: Uint8Array): Promise<PutResult | undefined> {
      return dht.putValue(key, value, { signal: AbortSignal.timeout(15_000) }).catch(() => undefined)
    },
    close: () => dht.close()
  }
}
