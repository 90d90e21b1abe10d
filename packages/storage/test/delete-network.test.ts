import { join } from 'node:path'
import type { LibP2PDHT } from '@chorus/dht'
import { startNetwork, type TestNetwork } from '@chorus/dht/testing'
import { decode } from 'cborg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveAddress } from '../src/address.js'
import { encodeMessage, RECORD_PROTOCOL } from '../src/direct/index.js'
import { sha256, signEnvelope, TOMBSTONE_KIND } from '../src/envelope.js'
import {
  AccessDeniedError,
  ContentDeletedError,
  ContentNotFoundError,
  chorusRecordRules,
  createEncryptedStorage,
  createTombstones,
  type DeletedEvent,
  type EncryptedStorage,
  headKey,
  type Tombstones,
  versionKey
} from '../src/index.js'
import { nodeCrypto, teamKeys } from './fixtures.js'
import { tempDir } from './helpers.js'
import { TestTeam } from './team-authority.js'

const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const ROLES = ['backend_developer', 'senior_architect', 'devops_engineer', 'frontend_developer'] as const
const AGENTS = ['agent001', 'agent002', 'agent003', 'agent666'] as const

/**
 * Four real LibP2PDHT nodes on 127.0.0.1, all team members whose DHT and storage share one
 * tombstone registry per node: node 0 (agent001, backend_developer) writes and deletes; nodes 1
 * (senior_architect) and 2 (devops_engineer) may read what it writes; node 3 (agent666,
 * frontend_developer) is a member that may not write agent001's addresses.
 */
describe('deletion on a 4-node libp2p network: signed tombstones', () => {
  const keys = teamKeys()
  const team = new TestTeam()
  const tmp = tempDir()
  let net: TestNetwork
  const storages: EncryptedStorage[] = []
  const registries: Tombstones[] = ROLES.map(() => createTombstones())
  const deleted: DeletedEvent[][] = ROLES.map(() => [])
  const certificates: Uint8Array[] = []
  const address = (path: string) => `ucxl://agent001:backend_developer@project123:task456/*^/${path}`

  /** What node n holds for `key` in its own record store. */
  async function held(n: number, key: string): Promise<Uint8Array | undefined> {
    const [v] = await net.nodes[n]!.getValues(key, { localOnly: true }).catch(() => [])
    return v?.value
  }

  /** Node `from` pushes one record to node `to` over the direct protocol; the answer. */
  async function push(from: LibP2PDHT, to: number, key: string, value: Uint8Array) {
    const res = await from.request(
      net.nodes[to]!.peerId,
      RECORD_PROTOCOL,
      encodeMessage({ op: 'put', records: [{ key, value }] })
    )
    return decode(res) as Record<string, unknown>
  }

  const idle = () => Promise.all(storages.map((s) => s.whenIdle()))

  beforeAll(async () => {
    net = await startNetwork({
      nodes: 4,
      records: chorusRecordRules({ authority: team.authority }),
      init: (i) => ({
        records: chorusRecordRules({ authority: team.authority, tombstones: registries[i] }),
        reputation: { threshold: 1_000_000 }
      })
    })
    for (let i = 0; i < 4; i++) {
      const node = net.nodes[i]!
      certificates[i] = team.issue(AGENTS[i]!, [ROLES[i]!], node.signer.publicKey)
      const { roles, keyring, crypto } = nodeCrypto(keys, [ROLES[i]!])
      const storage = createEncryptedStorage(
        {
          dht: node,
          crypto,
          roles,
          keyring,
          signer: node.signer,
          authority: team.authority,
          certificate: () => certificates[i],
          tombstones: registries[i],
          onDeleted: (e) => deleted[i]!.push(e)
        },
        { dataDir: join(tmp.dir, `node${i}`), nodeId: node.peerId, writeQuorum: 2, directReadPeers: 3 }
      )
      await storage.start()
      storages[i] = storage
    }
  }, 120_000)

  afterAll(async () => {
    await Promise.allSettled(storages.map((s) => s.stop()))
    await net?.stop()
    tmp.remove()
  }, 60_000)

  it('deletes on A: B and C answer deleted at N, *~N-1 stays readable, list/search/cache drop it, a later write is N+1', async () => {
    const [a, b, c] = storages as [EncryptedStorage, EncryptedStorage, EncryptedStorage]
    const x = address('kept-versions')
    const base = resolveAddress(x).base
    await a.storeUCXLContent(x, 'first', 'backend_developer', 'text/plain')
    await a.storeUCXLContent(x, 'second', 'backend_developer', 'text/plain')
    await idle()
    // B and C read (cache and index filled) and list it
    for (const s of [b, c]) expect(text((await s.retrieveUCXLContent(x)).content)).toBe('second')
    expect((await b.searchContent({ agent: 'agent001' })).map((m) => m.baseAddress)).toContain(base)
    expect((await b.listContentByRole('backend_developer')).map((m) => m.baseAddress)).toContain(base)

    const res = await a.deleteUCXLContent(x, 'backend_developer')
    expect(res).toMatchObject({ address: base, version: 3, deleted: true, purgeVersions: false })
    expect(res.acks).toBeGreaterThanOrEqual(2)
    await idle()
    // B learned of it from the push alone (no read yet): its list and search no longer return it,
    // and its cached plaintext is gone (the next read does not answer from the cache)
    expect(deleted[1]!.map((e) => [e.address, e.version])).toContainEqual([base, 3])
    expect((await b.searchContent({ agent: 'agent001' })).map((m) => m.baseAddress)).not.toContain(base)
    expect((await b.listContentByRole('backend_developer')).map((m) => m.baseAddress)).not.toContain(base)
    expect((await a.searchContent({})).map((m) => m.baseAddress)).not.toContain(base)
    for (const s of [a, b, c]) {
      const err = await s.retrieveUCXLContent(x).catch((e: unknown) => e)
      expect(ContentDeletedError.isInstance(err), String(err)).toBe(true)
      expect((err as ContentDeletedError).version).toBe(3)
      expect((err as ContentDeletedError).code).toBe('UCXL-410-DELETED')
    }
    // the tombstone's own version reads as deleted; earlier versions stay readable
    await expect(b.retrieveUCXLContent(x.replace('/*^/', '/*~3/'))).rejects.toSatisfy((e: unknown) =>
      ContentDeletedError.isInstance(e)
    )
    expect(text((await c.retrieveUCXLContent(x.replace('/*^/', '/*~2/'))).content)).toBe('second')
    expect(text((await b.retrieveUCXLContent(x.replace('/*^/', '/*~1/'))).content)).toBe('first')

    // a second delete: nothing is there any more
    await expect(a.deleteUCXLContent(x, 'backend_developer')).rejects.toSatisfy((e: unknown) =>
      ContentNotFoundError.isInstance(e)
    )

    // a write after the tombstone is version 4, readable and listed again everywhere
    const again = await a.storeUCXLContent(x, 'third', 'backend_developer', 'text/plain')
    expect(again.version).toBe(4)
    await idle()
    for (const s of [b, c]) {
      const r = await s.retrieveUCXLContent(x)
      expect([text(r.content), r.metadata.version]).toEqual(['third', 4])
    }
    expect(
      (await b.searchContent({ agent: 'agent001' })).map((m) => [m.baseAddress, m.version])
    ).toContainEqual([base, 4])
    // replaying the tombstone now changes nothing: the head stays at 4
    const tomb = await held(0, versionKey(resolveAddress(x).digest, 3))
    expect(tomb).toBeDefined()
    const answer = await push(net.nodes[0]!, 1, headKey(resolveAddress(x).digest), tomb!)
    expect(answer.ok).toBe(false)
    expect(text((await b.retrieveUCXLContent(x, { consistency: 'network' })).content)).toBe('third')
  }, 120_000)

  it('with purge, every holder drops the earlier versions and refuses them again while the tombstone stands', async () => {
    const [a, b, c] = storages as [EncryptedStorage, EncryptedStorage, EncryptedStorage]
    const y = address('purged-versions')
    const r = resolveAddress(y)
    await a.storeUCXLContent(y, 'secret one', 'backend_developer', 'text/plain')
    await a.storeUCXLContent(y, 'secret two', 'backend_developer', 'text/plain')
    await idle()
    expect(text((await b.retrieveUCXLContent(y.replace('/*^/', '/*~1/'))).content)).toBe('secret one')
    const v1 = await held(0, versionKey(r.digest, 1))
    expect(v1).toBeDefined()
    let copies = 0
    for (const n of [0, 1, 2, 3]) if ((await held(n, versionKey(r.digest, 1))) !== undefined) copies++
    expect(copies).toBeGreaterThanOrEqual(2)

    const res = await a.deleteUCXLContent(y, 'backend_developer', { purgeVersions: true })
    expect(res).toMatchObject({ version: 3, purgeVersions: true })
    await idle()
    for (let n = 0; n < 4; n++) {
      expect(await held(n, versionKey(r.digest, 1)), `node ${n} v1`).toBeUndefined()
      expect(await held(n, versionKey(r.digest, 2)), `node ${n} v2`).toBeUndefined()
    }
    for (const s of [a, b, c]) {
      for (const v of [1, 2]) {
        const err = await s.retrieveUCXLContent(y.replace('/*^/', `/*~${v}/`)).catch((e: unknown) => e)
        expect(ContentDeletedError.isInstance(err), `version ${v}: ${String(err)}`).toBe(true)
      }
    }
    // a node pushing the old version again is refused (as stale), and nothing is stored
    const answer = await push(net.nodes[3]!, 1, versionKey(r.digest, 1), v1!)
    expect(answer.ok).toBe(false)
    expect(await held(1, versionKey(r.digest, 1))).toBeUndefined()
  }, 120_000)

  it('a member that may not write the address cannot delete it: refused before signing, and its tombstone is refused on the network', async () => {
    const [a, b] = storages as [EncryptedStorage, EncryptedStorage]
    const z = address('not-yours')
    const r = resolveAddress(z)
    const stored = await a.storeUCXLContent(z, 'mine', 'backend_developer', 'text/plain')
    await idle()
    const intruder = storages[3]!
    await expect(intruder.deleteUCXLContent(z, 'frontend_developer')).rejects.toSatisfy((e: unknown) =>
      AccessDeniedError.isInstance(e)
    )
    await expect(intruder.deleteUCXLContent(z, 'backend_developer')).rejects.toSatisfy(
      (e: unknown) =>
        AccessDeniedError.isInstance(e) || (e as { code?: string }).code === 'UCXL-400-UNKNOWN_ROLE'
    )
    // node 3 signs a tombstone for the address itself and pushes it: every node refuses it
    const node3 = net.nodes[3]!
    const empty = new Uint8Array(0)
    const forged = await signEnvelope(
      {
        format: 2,
        address: r.base,
        version: 2,
        metadata: {
          creatorRole: 'backend_developer',
          encryptedFor: ['backend_developer'],
          contentType: 'decision',
          timestamp: Date.now(),
          size: 0,
          ciphertextHash: sha256(empty)
        },
        ciphertext: empty,
        author: node3.signer.publicKey,
        certificate: certificates[3]!,
        previous: Buffer.from(stored.envelopeHash, 'hex'),
        kind: TOMBSTONE_KIND,
        purgeVersions: true
      },
      node3.signer
    )
    for (const n of [0, 1, 2]) {
      expect((await push(node3, n, headKey(r.digest), forged.bytes)).ok).toBe(false)
    }
    await idle()
    expect(text((await b.retrieveUCXLContent(z, { consistency: 'network' })).content)).toBe('mine')
    expect(deleted[1]!.map((e) => e.address)).not.toContain(r.base)
  }, 120_000)
})
