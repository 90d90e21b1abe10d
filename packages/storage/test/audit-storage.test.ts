// The audit log and the plaintext cache as a storage uses them: what a retrieve, a list and a
// search record (reader's role and key, query and count, no plaintext), audit logging switched
// off, and cached plaintext dropped when the key that opened it is removed from the keyring.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLocalDHT, type LocalDHT } from '@chorus/dht'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AccessDeniedError,
  chorusRecordRules,
  createEncryptedStorage,
  type EncryptedStorage,
  type EncryptedStorageInit
} from '../src/index.js'
import { nodeCrypto, teamKeys } from './fixtures.js'
import { makeSigner, tempDir } from './helpers.js'

const ADDR = 'ucxl://agent001:backend_developer@audit:t/*^/decision'
const ADDR3 = 'ucxl://agent001:backend_developer@audit:t/*^/purged'
const SECRET = 'the plaintext nobody logs'

describe('audit entries and the key-tagged cache of a storage', () => {
  const keys = teamKeys()
  const tmp = tempDir()
  let dht: LocalDHT
  const started: EncryptedStorage[] = []

  /** A started storage playing `plays`, with its keyring to remove keys from. */
  async function node(name: string, plays: string[], init: Partial<EncryptedStorageInit> = {}) {
    const { roles, keyring, crypto } = nodeCrypto(keys, plays)
    const storage = createEncryptedStorage(
      { dht, crypto, roles, keyring, signer: makeSigner() },
      { dataDir: join(tmp.dir, name), nodeId: `${name}-node`, writeQuorum: 0, ...init }
    )
    await storage.start()
    started.push(storage)
    return { storage, keyring, dir: join(tmp.dir, name) }
  }

  const auditLines = (dir: string): Record<string, unknown>[] =>
    readFileSync(join(dir, 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => !('checkpoint' in l))

  beforeAll(async () => {
    dht = createLocalDHT({ dataDir: join(tmp.dir, 'dht'), records: chorusRecordRules() })
    await dht.start()
  })

  afterAll(async () => {
    for (const s of started) await s.stop()
    await dht?.close()
    tmp.remove()
  })

  it("records the reader's role and opening key on retrieve, and list and search with their query and count", async () => {
    const writer = await node('writer', ['backend_developer'])
    const reader = await node('reader', ['senior_architect'])
    await writer.storage.storeUCXLContent(ADDR, SECRET, 'backend_developer', 'text/plain')
    expect((await reader.storage.retrieveUCXLContent(ADDR)).source).not.toBe('cache')
    expect((await reader.storage.retrieveUCXLContent(ADDR)).source).toBe('cache')
    expect(await reader.storage.listContentByRole('backend_developer', 10)).toHaveLength(1)
    expect(await reader.storage.searchContent({ project: 'audit', createdAfter: new Date(0) })).toHaveLength(
      1
    )
    await expect(reader.storage.searchContent({ address: 'not an address' })).rejects.toThrow()

    expect(await reader.storage.verifyAuditLog()).toMatchObject({ ok: true, entries: 5 })
    const entries = auditLines(reader.dir)
    const architectKey = keys.get('senior_architect')!.id
    // both the decrypting read and the cache hit name the reader's role and the key that opened it
    expect(entries.filter((e) => e.op === 'retrieve')).toEqual([
      expect.objectContaining({ role: 'senior_architect', keyId: architectKey, version: 1, success: true }),
      expect.objectContaining({ role: 'senior_architect', keyId: architectKey, version: 1, success: true })
    ])
    expect(entries.find((e) => e.op === 'list')).toMatchObject({
      role: 'backend_developer',
      address: null,
      query: { limit: 10 },
      results: 1,
      success: true
    })
    expect(entries.filter((e) => e.op === 'search')).toEqual([
      expect.objectContaining({ query: { project: 'audit', createdAfter: 0 }, results: 1, success: true }),
      expect.objectContaining({
        query: { address: 'not an address' },
        results: null,
        success: false,
        error: expect.objectContaining({ code: expect.any(String) })
      })
    ])
    const text = readFileSync(join(reader.dir, 'audit.log'), 'utf8')
    expect(text).not.toContain(SECRET)
    // appends are written in batches: verification writes what is pending first
    expect(await writer.storage.verifyAuditLog()).toMatchObject({ ok: true })
    expect(readFileSync(join(writer.dir, 'audit.log'), 'utf8')).not.toContain(SECRET)
  })

  it('auditLogging: false appends nothing, and verification says it is off', async () => {
    const quiet = await node('quiet', ['backend_developer'], { auditLogging: false })
    await quiet.storage.storeUCXLContent(`${ADDR}-quiet`, SECRET, 'backend_developer', 'text/plain')
    await quiet.storage.retrieveUCXLContent(`${ADDR}-quiet`)
    await quiet.storage.searchContent({})
    expect(existsSync(join(quiet.dir, 'audit.log'))).toBe(false)
    expect(await quiet.storage.verifyAuditLog()).toMatchObject({
      ok: false,
      disabled: true,
      entries: 0,
      reason: expect.stringMatching(/audit logging is off/)
    })
  })

  it('removing a role key drops the plaintext it opened from the cache: a later read must decrypt, and is refused', async () => {
    const writer = await node('writer2', ['backend_developer'])
    // frontend content opens with the frontend key (tried first), backend content only with the architect's
    const reader = await node('reader2', ['frontend_developer', 'senior_architect'])
    await writer.storage.storeUCXLContent(ADDR3, SECRET, 'backend_developer', 'text/plain')
    const other = 'ucxl://agent001:frontend_developer@audit:t/*^/plan'
    const ui = await node('ui', ['frontend_developer'])
    await ui.storage.storeUCXLContent(other, 'frontend plan', 'frontend_developer', 'plan')
    await reader.storage.retrieveUCXLContent(ADDR3)
    await reader.storage.retrieveUCXLContent(other)
    expect((await reader.storage.retrieveUCXLContent(ADDR3)).source).toBe('cache')
    const cachedBefore = reader.storage.getMetrics().cacheSize
    expect(cachedBefore).toBe(4) // each version and its latest

    // the key is removed: the purge drops what it opened (version and latest), nothing else
    const architect = keys.get('senior_architect')!
    expect(reader.keyring.remove('senior_architect', architect.id)).toBe(true)
    expect(reader.storage.purgeRemovedKeys()).toBe(2)
    expect(reader.storage.getMetrics().cacheSize).toBe(2)
    const decryptsBefore = reader.storage.getMetrics().decryptionOps
    await expect(reader.storage.retrieveUCXLContent(ADDR3)).rejects.toBeInstanceOf(AccessDeniedError)
    expect(reader.storage.getMetrics().decryptionOps).toBe(decryptsBefore + 1) // it tried to decrypt
    expect((await reader.storage.retrieveUCXLContent(other)).source).toBe('cache') // the frontend key stays

    // given back, the content opens again (decrypted, not from a cache)
    reader.keyring.addIdentity(architect)
    expect((await reader.storage.retrieveUCXLContent(ADDR3)).source).not.toBe('cache')
  })

  it('a cache hit whose key was removed without a purge is not served; what a node wrote goes with its role', async () => {
    const reader = await node('reader3', ['senior_architect'])
    await reader.storage.retrieveUCXLContent(ADDR)
    expect((await reader.storage.retrieveUCXLContent(ADDR)).source).toBe('cache')
    reader.keyring.remove('senior_architect', keys.get('senior_architect')!.id)
    // no purge called: the hit checks the key, drops what it opened and decrypts (refused)
    await expect(reader.storage.retrieveUCXLContent(ADDR)).rejects.toBeInstanceOf(AccessDeniedError)
    expect(reader.storage.getMetrics().cacheSize).toBe(0)

    // content this node wrote is cached as its role's: without any key of the role it goes too
    const writer = await node('writer3', ['backend_developer'])
    await writer.storage.storeUCXLContent(`${ADDR}-own`, SECRET, 'backend_developer', 'text/plain')
    expect((await writer.storage.retrieveUCXLContent(`${ADDR}-own`)).source).toBe('cache')
    writer.keyring.remove('backend_developer', keys.get('backend_developer')!.id)
    expect(writer.storage.purgeRemovedKeys()).toBe(2)
    await expect(writer.storage.retrieveUCXLContent(`${ADDR}-own`)).rejects.toBeInstanceOf(AccessDeniedError)
  })
})
