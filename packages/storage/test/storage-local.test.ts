import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLocalDHT, type LocalDHT } from '@chorus/dht'
import { addressDigest } from '@chorus/ucxl'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AccessDeniedError,
  ContentNotFoundError,
  ContentTooLargeError,
  chorusRecordRules,
  type EncryptedStorage,
  encodeEnvelope,
  IntegrityError,
  InvalidAddressError,
  InvalidContentTypeError,
  openEnvelope,
  ReadOnlyRoleError,
  StorageNotStartedError,
  UnknownCreatorRoleError,
  versionKey
} from '../src/index.js'
import { startStorage, teamKeys } from './fixtures.js'
import { makeSigner, tempDir } from './helpers.js'

const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const ADDR = 'ucxl://agent001:backend_developer@project123:task456/*^/decision'

describe('EncryptedStorage on a local DHT', () => {
  const keys = teamKeys()
  const tmp = tempDir()
  let dht: LocalDHT
  const signer = makeSigner()
  let backend: EncryptedStorage
  let frontend: EncryptedStorage

  beforeAll(async () => {
    dht = createLocalDHT({ dataDir: join(tmp.dir, 'dht'), records: chorusRecordRules() })
    await dht.start()
    backend = await startStorage({
      dht,
      signer,
      keys,
      plays: ['backend_developer'],
      init: { dataDir: join(tmp.dir, 'backend'), nodeId: 'backend-node', writeQuorum: 0 }
    })
    frontend = await startStorage({
      dht,
      signer: makeSigner(),
      keys,
      plays: ['frontend_developer'],
      init: { dataDir: join(tmp.dir, 'frontend'), nodeId: 'frontend-node', writeQuorum: 0 }
    })
  })

  afterAll(async () => {
    await backend?.stop()
    await frontend?.stop()
    await dht?.close()
    tmp.remove()
  })

  it('stores and retrieves, from the network path and then the cache', async () => {
    const stored = await backend.storeUCXLContent(
      ADDR,
      'Decision: use pattern Y',
      'backend_developer',
      'text/plain'
    )
    expect(stored).toMatchObject({
      version: 1,
      creatorRole: 'backend_developer',
      contentType: 'text/plain',
      size: 23,
      previous: null,
      baseAddress: 'ucxl://agent001:backend_developer@project123:task456/decision',
      address: 'ucxl://agent001:backend_developer@project123:task456/*~1/decision'
    })
    expect(stored.encryptedFor).toEqual(
      expect.arrayContaining(['backend_developer', 'senior_architect', 'devops_engineer'])
    )
    expect(stored.encryptedFor).not.toContain('frontend_developer')
    backend.invalidateCache(ADDR)
    const first = await backend.retrieveUCXLContent(ADDR)
    expect(text(first.content)).toBe('Decision: use pattern Y')
    expect(first.source).not.toBe('cache')
    const second = await backend.retrieveUCXLContent(ADDR)
    expect(second.source).toBe('cache')
    expect(text(second.content)).toBe('Decision: use pattern Y')
    // the legacy address form names the same content
    const legacy = await backend.retrieveUCXLContent(
      'ucxl://agent001/backend_developer/project123/task456/decision'
    )
    expect(legacy.metadata.envelopeHash).toBe(first.metadata.envelopeHash)
    const m = backend.getMetrics()
    expect(m.storedItems).toBe(1)
    expect(m.cacheHits).toBeGreaterThanOrEqual(2)
    expect(m.cacheMisses).toBeGreaterThanOrEqual(1)
    expect(m.encryptionOps).toBe(1)
    expect(m.decryptionOps).toBe(1)
    expect(m.cacheSize).toBeGreaterThan(0)
  })

  it('denies a role that may not read, with no plaintext', async () => {
    const err = await frontend.retrieveUCXLContent(ADDR).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AccessDeniedError)
    expect((err as AccessDeniedError).code).toBe('UCXL-403-ACCESS_DENIED')
    expect(JSON.stringify(err)).not.toContain('pattern Y')
    expect(String((err as Error).message)).not.toContain('pattern Y')
  })

  it('resolves temporal segments over three versions', async () => {
    const a = 'ucxl://agent001:backend_developer@project123:task456/*^/versions'
    for (const n of [1, 2, 3]) {
      const r = await backend.storeUCXLContent(a, `version ${n}`, 'backend_developer', 'text/plain')
      expect(r.version).toBe(n)
    }
    backend.invalidateCache(a)
    const at = (t: string) => a.replace('*^', t)
    expect(text((await backend.retrieveUCXLContent(a)).content)).toBe('version 3')
    expect(text((await backend.retrieveUCXLContent(at('*~'))).content)).toBe('version 1')
    expect(text((await backend.retrieveUCXLContent(at('*~2'))).content)).toBe('version 2')
    expect(text((await backend.retrieveUCXLContent(at('~~1'))).content)).toBe('version 2')
    expect(text((await backend.retrieveUCXLContent(at('~~2'))).content)).toBe('version 1')
    expect(text((await backend.retrieveUCXLContent(at('^^1'))).content)).toBe('version 2')
    expect(text((await backend.retrieveUCXLContent(at('^^1'), { from: 2 })).content)).toBe('version 3')
    await expect(backend.retrieveUCXLContent(at('~~3'))).rejects.toBeInstanceOf(ContentNotFoundError)
    await expect(backend.retrieveUCXLContent(at('*~4'))).rejects.toBeInstanceOf(ContentNotFoundError)
    // the chain links each version to the previous one
    const v3 = await backend.retrieveUCXLContent(at('*~3'))
    const v2 = await backend.retrieveUCXLContent(at('*~2'))
    expect(v3.metadata.previous).toBe(v2.metadata.envelopeHash)
  })

  it('enforces the store policy and input checks with typed errors', async () => {
    const cases: [() => Promise<unknown>, new (...a: never[]) => Error, string][] = [
      [
        () => backend.storeUCXLContent('not an address', 'x', 'backend_developer', 'text/plain'),
        InvalidAddressError,
        'UCXL-400-INVALID_ADDRESS'
      ],
      [
        () =>
          backend.storeUCXLContent(
            'ucxl://any:backend_developer@p:t/*^/x',
            'x',
            'backend_developer',
            'text/plain'
          ),
        InvalidAddressError,
        'UCXL-400-INVALID_ADDRESS'
      ],
      [
        () => backend.storeUCXLContent(ADDR.replace('*^', '*~1'), 'x', 'backend_developer', 'text/plain'),
        InvalidAddressError,
        'UCXL-400-INVALID_ADDRESS'
      ],
      [
        () => backend.storeUCXLContent('ucxl://a:observer@p:t/*^/x', 'x', 'observer', 'text/plain'),
        ReadOnlyRoleError,
        'UCXL-403-READ_ONLY_ROLE'
      ],
      [
        () => backend.storeUCXLContent('ucxl://a:nobody@p:t/*^/x', 'x', 'nobody', 'text/plain'),
        UnknownCreatorRoleError,
        'UCXL-400-UNKNOWN_ROLE'
      ],
      [
        () =>
          backend.storeUCXLContent('ucxl://a:devops_engineer@p:t/*^/x', 'x', 'devops_engineer', 'text/plain'),
        AccessDeniedError,
        'UCXL-403-ACCESS_DENIED'
      ],
      [
        () =>
          backend.storeUCXLContent(
            'ucxl://a:devops_engineer@p:t/*^/x',
            'x',
            'backend_developer',
            'text/plain'
          ),
        AccessDeniedError,
        'UCXL-403-ACCESS_DENIED'
      ],
      [
        () => backend.storeUCXLContent(ADDR, 'x', 'backend_developer', 'bad type!'),
        InvalidContentTypeError,
        'UCXL-400-INVALID_CONTENT_TYPE'
      ],
      [
        () => backend.storeUCXLContent(ADDR, new Uint8Array(1024 * 1024 + 1), 'backend_developer', 'file'),
        ContentTooLargeError,
        'UCXL-413-CONTENT_TOO_LARGE'
      ],
      [
        () => backend.retrieveUCXLContent('ucxl://agent001:backend_developer@project123:task456/*^/missing'),
        ContentNotFoundError,
        'UCXL-404-NOT_FOUND'
      ],
      [
        () => backend.retrieveUCXLContent('ucxl://any:backend_developer@project123:task456/*^/decision'),
        InvalidAddressError,
        'UCXL-400-INVALID_ADDRESS'
      ]
    ]
    for (const [run, type, code] of cases) {
      const err = await run().catch((e: unknown) => e)
      expect(err, code).toBeInstanceOf(type)
      expect((err as { code: string }).code).toBe(code)
    }
    // another author cannot continue a chain it does not own (a node with its own key)
    const other = await startStorage({
      dht,
      signer: makeSigner(),
      keys,
      plays: ['backend_developer'],
      init: { dataDir: join(tmp.dir, 'other'), nodeId: 'other', writeQuorum: 0 }
    })
    await expect(
      other.storeUCXLContent(ADDR, 'hijack', 'backend_developer', 'text/plain')
    ).rejects.toBeInstanceOf(AccessDeniedError)
    await other.stop()
    await expect(other.retrieveUCXLContent(ADDR)).rejects.toBeInstanceOf(StorageNotStartedError)
  })

  it('refuses tampered records: in the DHT validator, on index, and on read', async () => {
    const a = 'ucxl://agent001:backend_developer@project123:task456/*^/tamper'
    const stored = await backend.storeUCXLContent(a, 'original', 'backend_developer', 'text/plain')
    const key = versionKey(addressDigest(a), 1)
    const bytes = await dht.getValue(key)
    const e = openEnvelope(bytes)
    const flipped = Uint8Array.from(e.ciphertext)
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1
    const tampered = encodeEnvelope({ ...e, ciphertext: flipped })
    const badSig = encodeEnvelope({ ...e, signature: new Uint8Array(64).fill(7) })
    await expect(dht.putValue(key, tampered)).rejects.toThrow(/invalid|hash/i)
    await expect(dht.putValue(key, badSig)).rejects.toThrow(/invalid|signature/i)
    await expect(frontend.indexEnvelope(tampered)).rejects.toBeInstanceOf(IntegrityError)
    await expect(frontend.indexEnvelope(badSig)).rejects.toBeInstanceOf(IntegrityError)
    const ok = await frontend.indexEnvelope(bytes)
    expect(ok.envelopeHash).toBe(stored.envelopeHash)
  })

  it('expires cache entries and cleans them up', async () => {
    const t = tempDir()
    const s = await startStorage({
      dht,
      signer,
      keys,
      plays: ['backend_developer'],
      init: { dataDir: t.dir, nodeId: 'ttl', writeQuorum: 0, cacheTTL: 50 }
    })
    try {
      await s.retrieveUCXLContent(ADDR)
      expect(s.getMetrics().cacheSize).toBeGreaterThan(0)
      await new Promise((r) => setTimeout(r, 80))
      expect(s.cleanupCache()).toBeGreaterThan(0)
      expect(s.getMetrics().cacheSize).toBe(0)
      const again = await s.retrieveUCXLContent(ADDR)
      expect(again.source).not.toBe('cache')
    } finally {
      await s.stop()
      t.remove()
    }
  })

  it('lists and searches its index after a restart, with wildcards', async () => {
    const dir = join(tmp.dir, 'backend')
    await backend.stop()
    backend = await startStorage({
      dht,
      signer,
      keys,
      plays: ['backend_developer'],
      init: { dataDir: dir, nodeId: 'backend-node', writeQuorum: 0 }
    })
    const listed = await backend.listContentByRole('backend_developer', 100)
    const bases = listed.map((m) => m.baseAddress)
    expect(bases).toEqual(
      expect.arrayContaining([
        'ucxl://agent001:backend_developer@project123:task456/decision',
        'ucxl://agent001:backend_developer@project123:task456/versions',
        'ucxl://agent001:backend_developer@project123:task456/tamper'
      ])
    )
    expect(listed.find((m) => m.baseAddress.endsWith('/versions'))?.version).toBe(3)
    expect(await backend.listContentByRole('frontend_developer', 100)).toEqual([])
    expect(await backend.listContentByRole('backend_developer', 1)).toHaveLength(1)
    const all = await backend.searchContent({
      agent: 'agent001',
      project: 'project123',
      task: 'any',
      contentType: 'text/plain'
    })
    expect(all.length).toBe(3)
    await expect(
      backend.searchContent({ address: 'ucxl://any:backend_developer@project123:*/ver*' })
    ).rejects.toBeInstanceOf(InvalidAddressError)
    const under = await backend.searchContent({ address: 'ucxl://agent001:*@project123:task456/**' })
    expect(under.length).toBe(3)
    const pattern2 = await backend.searchContent({
      address: 'ucxl://any:backend_developer@project123:any/versions'
    })
    expect(pattern2.map((m) => m.version)).toEqual([3])
    const versions = await backend.searchContent({
      address: 'ucxl://any:any@any:any/versions',
      allVersions: true
    })
    expect(versions.map((m) => m.version).sort()).toEqual([1, 2, 3])
    expect(await backend.searchContent({ createdAfter: Date.now() + 60_000 })).toEqual([])
    expect((await backend.searchContent({ createdBefore: new Date() })).length).toBeGreaterThanOrEqual(3)
    // the chain state survived the restart: the next store continues it
    const v4 = await backend.storeUCXLContent(
      'ucxl://agent001:backend_developer@project123:task456/versions',
      'version 4',
      'backend_developer',
      'text/plain'
    )
    expect(v4.version).toBe(4)
  })

  it('keeps a verifiable audit log and detects tampering', async () => {
    expect(await backend.verifyAuditLog()).toMatchObject({ ok: true })
    const path = join(tmp.dir, 'backend', 'audit.log')
    const content = readFileSync(path, 'utf8')
    expect(content).not.toContain('Decision: use pattern Y')
    expect(content).not.toContain('AGE-SECRET-KEY')
    const lines = content.trim().split('\n')
    const ops = lines.map((l) => JSON.parse(l).op as string)
    expect(ops).toEqual(expect.arrayContaining(['store', 'retrieve', 'list', 'search']))
    expect(lines.some((l) => JSON.parse(l).success === false)).toBe(true)
    const i = lines.findIndex((l) => l.includes('"success":true'))
    lines[i] = lines[i]!.replace('"success":true', '"success":false')
    writeFileSync(path, `${lines.join('\n')}\n`)
    const v = await backend.verifyAuditLog()
    expect(v.ok).toBe(false)
    expect(v.line).toBe(i + 1)
  })
})
