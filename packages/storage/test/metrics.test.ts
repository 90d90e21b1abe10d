import { join } from 'node:path'
import { createLocalDHT, type LocalDHT } from '@chorus/dht'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chorusRecordRules, type EncryptedStorage } from '../src/index.js'
import { startStorage, teamKeys } from './fixtures.js'
import { makeSigner, tempDir } from './helpers.js'

const ADDR = 'ucxl://agent001:backend_developer@project123:task456/*^/metrics'
const later = () => new Promise((r) => setTimeout(r, 5))

/** The reference's storage metrics, each shown to move with the operation that drives it. */
describe('storage metrics move with what happens', () => {
  const tmp = tempDir()
  let dht: LocalDHT
  let storage: EncryptedStorage

  beforeAll(async () => {
    dht = createLocalDHT({ dataDir: join(tmp.dir, 'dht'), records: chorusRecordRules() })
    storage = await startStorage({
      dht,
      signer: makeSigner(),
      keys: teamKeys(),
      plays: ['backend_developer'],
      init: { dataDir: join(tmp.dir, 'node'), nodeId: 'node', writeQuorum: 0 }
    })
  })

  afterAll(async () => {
    await storage?.stop()
    await dht?.close()
    tmp.remove()
  })

  it('stores, retrieves, cache hits and misses, crypto operations, averages and the last update', async () => {
    const m0 = storage.getMetrics()
    expect(m0).toMatchObject({ storedItems: 0, retrievedItems: 0, encryptionOps: 0, decryptionOps: 0 })
    expect(m0.averageStoreTime).toBe(0)

    await later()
    await storage.storeUCXLContent(ADDR, 'first', 'backend_developer', 'text/plain')
    const m1 = storage.getMetrics()
    expect(m1.storedItems).toBe(1)
    expect(m1.encryptionOps).toBe(1)
    expect(m1.averageStoreTime).toBeGreaterThan(0)
    expect(m1.lastUpdate).toBeGreaterThan(m0.lastUpdate)
    expect(m1.indexedVersions).toBe(1)

    storage.invalidateCache(ADDR)
    await later()
    await storage.retrieveUCXLContent(ADDR)
    const m2 = storage.getMetrics()
    expect(m2.retrievedItems).toBe(1)
    expect(m2.cacheMisses).toBeGreaterThan(m1.cacheMisses)
    expect(m2.decryptionOps).toBe(1)
    expect(m2.averageRetrieveTime).toBeGreaterThan(0)
    expect(m2.cacheSize).toBeGreaterThan(0)
    expect(m2.lastUpdate).toBeGreaterThan(m1.lastUpdate)

    await storage.retrieveUCXLContent(ADDR)
    const m3 = storage.getMetrics()
    expect(m3.cacheHits).toBeGreaterThan(m2.cacheHits)
    expect(m3.retrievedItems).toBe(2)
    expect(m3.decryptionOps).toBe(1) // a cache hit decrypts nothing

    await storage.storeUCXLContent(ADDR, 'second', 'backend_developer', 'text/plain')
    const m4 = storage.getMetrics()
    expect(m4.storedItems).toBe(2)
    expect(m4.encryptionOps).toBe(2)
    expect(m4.averageStoreTime).toBeGreaterThan(0)

    // a failure is counted by its code
    await storage.retrieveUCXLContent(ADDR.replace('/metrics', '/missing')).catch(() => undefined)
    expect(Object.values(storage.getMetrics().errors).reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
  })
})
