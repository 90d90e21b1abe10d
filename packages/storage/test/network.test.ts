import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DHT, LibP2PDHT } from '@chorus/dht'
import { permissiveRecords, startNetwork, type TestNetwork } from '@chorus/dht/testing'
import { addressDigest } from '@chorus/ucxl'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RECORD_PROTOCOL, recordHandler } from '../src/direct/index.js'
import { decodeMessage } from '../src/direct/protocol.js'
import {
  AccessDeniedError,
  ContentTooLargeError,
  chorusRecordRules,
  type EncryptedStorage,
  encodeEnvelope,
  headKey,
  openEnvelope,
  signEnvelope,
  versionKey
} from '../src/index.js'
import { startStorage, teamKeys } from './fixtures.js'
import { tempDir } from './helpers.js'

const text = (b: Uint8Array): string => new TextDecoder().decode(b)

/**
 * Five real LibP2PDHT nodes on 127.0.0.1 over TCP, all running the CHORUS record rules except
 * node 4, the liar: it accepts anything into its own record store and serves it to peers.
 */
describe('EncryptedStorage on a 5-node libp2p network', () => {
  const keys = teamKeys()
  const tmp = tempDir()
  let net: TestNetwork
  let backend: EncryptedStorage // node 0
  let architect: EncryptedStorage // node 1
  let devops: EncryptedStorage // node 2
  let frontend: EncryptedStorage // node 3
  let liar: LibP2PDHT // node 4

  const storageFor = (i: number, plays: string[]): Promise<EncryptedStorage> => {
    const node = net.nodes[i]!
    return startStorage({
      dht: node,
      signer: node.signer,
      keys,
      plays,
      // ask every other peer on 'closest' reads, so the liar is always among those asked
      init: { dataDir: join(tmp.dir, `node${i}`), nodeId: node.peerId, directReadPeers: 4 }
    })
  }

  beforeAll(async () => {
    net = await startNetwork({
      nodes: 5,
      records: chorusRecordRules(),
      init: (i) => (i === 4 ? { records: permissiveRecords } : {})
    })
    backend = await storageFor(0, ['backend_developer'])
    architect = await storageFor(1, ['senior_architect'])
    devops = await storageFor(2, ['devops_engineer'])
    frontend = await storageFor(3, ['frontend_developer'])
    liar = net.nodes[4]!
    // the liar also serves its (poisoned) record store over the direct protocol
    await liar.handle(RECORD_PROTOCOL, recordHandler(liar))
  }, 90_000)

  afterAll(async () => {
    await Promise.allSettled([backend, architect, devops, frontend].map((s) => s?.stop()))
    await net?.stop()
    tmp.remove()
  }, 60_000)

  it('content stored as backend_developer is read by senior_architect and devops_engineer, not frontend_developer', async () => {
    const address = 'ucxl://agent001:backend_developer@project123:task456/*^/decision'
    const stored = await backend.storeUCXLContent(
      address,
      'Decision: implement feature X using pattern Y',
      'backend_developer',
      'text/plain'
    )
    expect(stored.acks).toBeGreaterThanOrEqual(3)
    expect(stored.dhtPeers.length).toBeGreaterThanOrEqual(3)
    for (const reader of [architect, devops]) {
      const got = await reader.retrieveUCXLContent(address)
      expect(text(got.content)).toBe('Decision: implement feature X using pattern Y')
      expect(got.metadata).toMatchObject({
        version: 1,
        creatorRole: 'backend_developer',
        contentType: 'text/plain'
      })
      expect(got.metadata.author).toBe(Buffer.from(net.nodes[0]!.signer.publicKey).toString('hex'))
    }
    const err = await frontend.retrieveUCXLContent(address).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AccessDeniedError)
    expect(JSON.stringify({ ...(err as object), message: (err as Error).message })).not.toContain('pattern Y')
    // the denied node learned nothing it could search for either
    expect(await frontend.searchContent({ agent: 'agent001' })).toEqual([])
    // discovery: the writer announced the content
    const announced = await backend.announceContent(address)
    expect(announced.peers.length).toBeGreaterThanOrEqual(1)
    expect(announced.peers).not.toContain(net.nodes[0]!.peerId)
    const providers = await architect.discoverContentPeers(address)
    expect(providers).toContain(net.nodes[0]!.peerId)
    expect(new Set(providers).size).toBe(providers.length)
  })

  it('resolves *^, *~, *~2 and ~~1 over three versions from another node', async () => {
    const address = 'ucxl://agent001:backend_developer@project123:task456/*^/versions'
    for (const n of [1, 2, 3]) {
      const r = await backend.storeUCXLContent(address, `version ${n}`, 'backend_developer', 'text/plain')
      expect(r.version).toBe(n)
    }
    const at = (t: string) => address.replace('*^', t)
    expect(text((await architect.retrieveUCXLContent(address)).content)).toBe('version 3')
    expect(text((await architect.retrieveUCXLContent(at('*~'))).content)).toBe('version 1')
    expect(text((await architect.retrieveUCXLContent(at('*~2'))).content)).toBe('version 2')
    expect(text((await architect.retrieveUCXLContent(at('~~1'))).content)).toBe('version 2')
    expect(text((await devops.retrieveUCXLContent(at('^^2'))).content)).toBe('version 3')
  })

  it('a lying peer serving an older, a forged or a tampered version does not fool readers', async () => {
    const address = 'ucxl://agent001:backend_developer@project123:task456/*^/contested'
    const digest = addressDigest(address)
    const versions: Uint8Array[] = []
    for (const n of [1, 2, 3]) {
      await backend.storeUCXLContent(address, `contested ${n}`, 'backend_developer', 'text/plain')
      versions.push(await net.nodes[0]!.getValue(versionKey(digest, n), { localOnly: true }))
    }
    const [v1, , v3] = versions as [Uint8Array, Uint8Array, Uint8Array]

    // 1. the liar answers GET_VALUE for the head with version 1 (a genuine, older record)
    await liar.putValue(headKey(digest), v1, { localOnly: true })
    for (const consistency of ['network', 'closest'] as const) {
      devops.invalidateCache(address)
      const served = await devops.retrieveUCXLContent(address, { consistency })
      expect(served.metadata.version, consistency).toBe(3)
      expect(text(served.content)).toBe('contested 3')
    }

    // 2. it forges a version 4, validly signed with its own node key, chained to version 3
    const e3 = openEnvelope(v3)
    const forged = await signEnvelope(
      {
        ...e3,
        version: 4,
        previous: (await import('../src/envelope.js')).envelopeHash(v3),
        author: liar.signer.publicKey
      },
      liar.signer
    )
    await liar.putValue(headKey(digest), forged.bytes, { localOnly: true })
    // a reader that never saw the address: the forged chain has one supporter, the real one several
    const fresh = await architect.retrieveUCXLContent(address, { consistency: 'closest' })
    expect(fresh.metadata.version).toBe(3)
    expect(fresh.metadata.author).toBe(Buffer.from(net.nodes[0]!.signer.publicKey).toString('hex'))
    // another fresh reader, through the plain DHT contract only (full query, no direct protocol)
    const n1 = net.nodes[1]!
    const plainDHT: DHT = {
      putValue: (k, v, o) => n1.putValue(k, v, o),
      getValue: (k, o) => n1.getValue(k, o),
      getValues: (k, o) => n1.getValues(k, o),
      provide: (k, o) => n1.provide(k, o),
      findProviders: (k, o) => n1.findProviders(k, o),
      getClosestPeers: (k, o) => n1.getClosestPeers(k, o)
    }
    const plain = await startStorage({
      dht: plainDHT,
      signer: n1.signer,
      keys,
      plays: ['senior_architect'],
      init: { dataDir: join(tmp.dir, 'plain'), nodeId: 'plain' }
    })
    try {
      const viaNetwork = await plain.retrieveUCXLContent(address)
      expect(viaNetwork.metadata.version).toBe(3)
      expect(viaNetwork.metadata.author).toBe(fresh.metadata.author)
    } finally {
      await plain.stop()
    }
    // a reader that pinned the author ignores it whatever the count
    for (const consistency of ['network', 'closest'] as const) {
      devops.invalidateCache(address)
      expect((await devops.retrieveUCXLContent(address, { consistency })).metadata.version).toBe(3)
    }

    // 3. tampered bytes: kad-dht's validator on the reader drops them before storage sees them
    const tampered = Uint8Array.from(v3)
    tampered[tampered.length - 80] = (tampered[tampered.length - 80] ?? 0) ^ 0xff
    await liar.putValue(headKey(digest), tampered, { localOnly: true })
    devops.invalidateCache(address)
    expect(text((await devops.retrieveUCXLContent(address)).content)).toBe('contested 3')

    // 4. the liar replays version 1 to every peer: honest servers refuse a record their selector
    //    ranks below the one they hold (StaleRecordError, no acknowledgement), so no head rolls back
    await expect(liar.putValue(headKey(digest), v1)).rejects.toThrow(/no peer acknowledged/)
    for (const n of [0, 1, 2, 3]) {
      const held = await net.nodes[n]!.getValue(headKey(digest), { localOnly: true }).catch(() => undefined)
      if (held !== undefined) expect(openEnvelope(held).version, `node ${n} head`).toBe(3)
    }
    //    a node that missed updates (its store holds version 1): a reader that has seen version 3
    //    never rolls back, and its read repair restores the head
    for (const n of [1, 2, 3]) await net.nodes[n]!.putValue(headKey(digest), v1, { localOnly: true })
    devops.invalidateCache(address)
    expect((await devops.retrieveUCXLContent(address)).metadata.version).toBe(3)
    // (a repair already ran for step 1 within the last seconds: read again once the interval passed)
    await new Promise((r) => setTimeout(r, 5_000))
    devops.invalidateCache(address)
    expect((await devops.retrieveUCXLContent(address)).metadata.version).toBe(3)
    let repaired = 0
    for (let i = 0; i < 60 && repaired < 3; i++) {
      await new Promise((r) => setTimeout(r, 250))
      const heads = await Promise.all(
        [0, 1, 2, 3].map((n) =>
          net.nodes[n]!.getValue(headKey(digest), { localOnly: true }).catch(() => undefined)
        )
      )
      repaired = heads.filter((h) => h !== undefined && openEnvelope(h).version === 3).length
    }
    expect(repaired).toBeGreaterThanOrEqual(3)
  })

  it('readers without history: a forged successor and heads rolled back on every node do not fool them', async () => {
    const address = 'ucxl://agent001:backend_developer@project123:task456/*^/hijacked'
    const digest = addressDigest(address)
    const versions: Uint8Array[] = []
    for (const n of [1, 2, 3]) {
      await backend.storeUCXLContent(address, `hijacked ${n}`, 'backend_developer', 'text/plain')
      versions.push(await net.nodes[0]!.getValue(versionKey(digest, n), { localOnly: true }))
    }
    const [v1, , v3] = versions as [Uint8Array, Uint8Array, Uint8Array]
    const e3 = openEnvelope(v3)
    const { envelopeHash } = await import('../src/envelope.js')
    const forged = await signEnvelope(
      { ...e3, version: 4, previous: envelopeHash(v3), author: liar.signer.publicKey },
      liar.signer
    )
    // the servers that hold v3 (the writer and the peers its stores were pushed to)...
    const holding: number[] = []
    for (const n of [0, 1, 2, 3]) {
      const held = await net.nodes[n]!.getValue(headKey(digest), { localOnly: true }).catch(() => undefined)
      if (held !== undefined && openEnvelope(held).version === 3) holding.push(n)
    }
    expect(holding.length).toBeGreaterThanOrEqual(3)
    // ...refuse it under the head (their selector prefers the predecessor's author)...
    await liar.putValue(headKey(digest), forged.bytes).catch(() => undefined)
    for (const n of holding) {
      const held = await net.nodes[n]!.getValue(headKey(digest), { localOnly: true })
      expect(openEnvelope(held).version, `node ${n} head`).toBe(3)
    }
    // ...but say every store took it anyway (the version key had nothing to compare with)
    for (const n of [0, 1, 2, 3, 4]) {
      await net.nodes[n]!.putValue(headKey(digest), forged.bytes, { localOnly: true })
      await net.nodes[n]!.putValue(versionKey(digest, 4), forged.bytes, { localOnly: true })
    }
    // fresh readers on node 3, with the direct protocol (closest) and through the full query
    const n3 = net.nodes[3]!
    const readerDHT = {
      putValue: n3.putValue.bind(n3),
      getValue: n3.getValue.bind(n3),
      getValues: n3.getValues.bind(n3),
      provide: n3.provide.bind(n3),
      findProviders: n3.findProviders.bind(n3),
      getClosestPeers: n3.getClosestPeers.bind(n3),
      request: n3.request.bind(n3),
      getConnectedPeers: n3.getConnectedPeers.bind(n3),
      handle: async () => {},
      unhandle: async () => {}
    } as unknown as DHT
    let k = 0
    const fresh = () =>
      startStorage({
        dht: readerDHT,
        signer: n3.signer,
        keys,
        plays: ['senior_architect'],
        init: { dataDir: join(tmp.dir, `fresh-${k++}`), nodeId: `fresh-${k}`, directReadPeers: 4 }
      })
    const author = Buffer.from(net.nodes[0]!.signer.publicKey).toString('hex')
    for (const consistency of ['closest', 'network', 'local-first'] as const) {
      const reader = await fresh()
      try {
        const got = await reader.retrieveUCXLContent(address, { consistency })
        expect(got.metadata.version, consistency).toBe(3)
        expect(got.metadata.author).toBe(author)
        expect(text(got.content)).toBe('hijacked 3')
        // asked for by number, the forged version 4 is refused
        await expect(reader.retrieveUCXLContent(address.replace('*^', '*~4'))).rejects.toMatchObject({
          name: 'IntegrityError'
        })
      } finally {
        await reader.stop()
      }
    }
    // every head rolled back to version 1 (the version keys still hold 2 and 3)
    for (const n of [0, 1, 2, 3, 4]) await net.nodes[n]!.putValue(headKey(digest), v1, { localOnly: true })
    for (const consistency of ['closest', 'network'] as const) {
      const reader = await fresh()
      try {
        const got = await reader.retrieveUCXLContent(address, { consistency })
        expect(got.metadata.version, consistency).toBe(3)
        expect(text(got.content)).toBe('hijacked 3')
      } finally {
        await reader.stop()
      }
    }
  })

  it('honest nodes refuse tampered and badly signed records in their DHT validator', async () => {
    const address = 'ucxl://agent001:backend_developer@project123:task456/*^/validator'
    await backend.storeUCXLContent(address, 'valid', 'backend_developer', 'text/plain')
    const key = versionKey(addressDigest(address), 1)
    const good = await net.nodes[0]!.getValue(key, { localOnly: true })
    const e = openEnvelope(good)
    const flipped = Uint8Array.from(e.ciphertext)
    flipped[10] = (flipped[10] ?? 0) ^ 1
    const tampered = encodeEnvelope({ ...e, ciphertext: flipped })
    const badSig = encodeEnvelope({ ...e, signature: Uint8Array.from(e.signature, (b) => b ^ 1) })
    // an honest node refuses to store or send them
    await expect(net.nodes[1]!.putValue(key, tampered)).rejects.toThrow()
    await expect(net.nodes[1]!.putValue(key, badSig)).rejects.toThrow()
    // the liar sends them; no honest peer stores them
    await expect(liar.putValue(headKey(addressDigest(address)), tampered)).rejects.toMatchObject({
      name: 'NoPeersAcknowledgedError'
    })
    await expect(liar.putValue(key, badSig)).rejects.toMatchObject({ name: 'NoPeersAcknowledgedError' })
    for (const n of [0, 1, 2, 3]) {
      const held = await net.nodes[n]!.getValue(key, { localOnly: true }).catch(() => undefined)
      if (held !== undefined) expect(Buffer.from(held).equals(good)).toBe(true)
    }
  })

  it('refuses oversized content with its error', async () => {
    const err = await backend
      .storeUCXLContent(
        'ucxl://agent001:backend_developer@project123:task456/*^/big',
        new Uint8Array(1024 * 1024 + 1),
        'backend_developer',
        'file'
      )
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ContentTooLargeError)
    expect((err as ContentTooLargeError).code).toBe('UCXL-413-CONTENT_TOO_LARGE')
  })

  it('search and list find what they should after a restart; the audit log verifies and detects tampering', async () => {
    await architect.stop()
    architect = await storageFor(1, ['senior_architect'])
    const listed = await architect.listContentByRole('backend_developer', 50)
    expect(listed.map((m) => m.baseAddress).sort()).toEqual([
      'ucxl://agent001:backend_developer@project123:task456/contested',
      'ucxl://agent001:backend_developer@project123:task456/decision',
      'ucxl://agent001:backend_developer@project123:task456/versions'
    ])
    const found = await architect.searchContent({
      address: 'ucxl://any:backend_developer@project123:any/vers*'.replace('vers*', 'versions'),
      allVersions: true
    })
    expect(found.map((m) => m.version).sort()).toEqual([1, 2, 3])
    expect(await architect.searchContent({ role: 'backend_developer', contentType: 'file' })).toEqual([])
    // what it read is still readable after the restart, from its index, with rollback protection
    expect(architect.localVersion('ucxl://agent001:backend_developer@project123:task456/contested')).toBe(3)

    expect(await backend.verifyAuditLog()).toMatchObject({ ok: true })
    await backend.stop()
    const path = join(tmp.dir, 'node0', 'audit.log')
    const lines = readFileSync(path, 'utf8').trim().split('\n')
    // the second entry (checkpoint lines carry no `op`)
    const i = lines.findIndex((l) => JSON.parse(l).seq === 2)
    lines.splice(i, 1)
    writeFileSync(path, `${lines.join('\n')}\n`)
    backend = await storageFor(0, ['backend_developer'])
    const v = await backend.verifyAuditLog()
    expect(v.ok).toBe(false)
    expect(v.line).toBe(i + 1)
  })
  it('a node that lost its index and records but kept its key continues its chains instead of forking them', async () => {
    const address = 'ucxl://agent001:backend_developer@project123:task456/wiped'
    await backend.storeUCXLContent(address, 'one', 'backend_developer', 'text/plain')
    await backend.storeUCXLContent(address, 'two', 'backend_developer', 'text/plain')
    // the disk is lost: a fresh index, and the node's own record store forgets both records
    await backend.stop()
    const digest = addressDigest(address)
    for (const key of [headKey(digest), versionKey(digest, 1), versionKey(digest, 2)])
      await net.nodes[0]!.removeLocal?.(key)
    backend = await startStorage({
      dht: net.nodes[0]!,
      signer: net.nodes[0]!.signer,
      keys,
      plays: ['backend_developer'],
      init: { dataDir: join(tmp.dir, 'node0-wiped'), nodeId: net.nodes[0]!.peerId, directReadPeers: 4 }
    })
    // it asks the nearest peer for the head, and writes version 3 (a second version 1 would be
    // refused by every peer as an equivocation)
    const stored = await backend.storeUCXLContent(address, 'three', 'backend_developer', 'text/plain')
    expect(stored.version).toBe(3)
    expect(text((await architect.retrieveUCXLContent(`${address}`)).content)).toBe('three')
  }, 60_000)

  it('a node restarted on the index it kept asks no peer for the head of an address it never wrote', async () => {
    await backend.stop()
    // the same data directory as before: the index is kept, so it knows every version it signed
    const node = net.nodes[0]!
    let headAsks = 0
    const counting = new Proxy(node, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target)
        if (prop !== 'request' || typeof value !== 'function') {
          return typeof value === 'function' ? value.bind(target) : value
        }
        return (peer: string, protocol: string, data: Uint8Array, options?: unknown) => {
          if (protocol === RECORD_PROTOCOL && (decodeMessage(data) as { op?: string }).op === 'get')
            headAsks++
          return value.call(target, peer, protocol, data, options)
        }
      }
    }) as DHT
    backend = await startStorage({
      dht: counting,
      signer: node.signer,
      keys,
      plays: ['backend_developer'],
      init: { dataDir: join(tmp.dir, 'node0-wiped'), nodeId: node.peerId, directReadPeers: 4 }
    })
    const address = 'ucxl://agent001:backend_developer@project123:task456/after-restart'
    const stored = await backend.storeUCXLContent(address, 'first', 'backend_developer', 'text/plain')
    expect(stored.version).toBe(1)
    expect(stored.acks).toBeGreaterThanOrEqual(1)
    expect(headAsks).toBe(0)
  }, 60_000)
})
