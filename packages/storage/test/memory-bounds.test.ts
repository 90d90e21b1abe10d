/**
 * The content cache and the verified-record memo are bounded in bytes: many small entries are
 * bounded as well as a few large ones, and the bound holds after every insert.
 */
import { describe, expect, it } from 'vitest'
import { CACHE_ENTRY_OVERHEAD, ContentCache } from '../src/cache.js'
import type { UCXLMetadata } from '../src/types.js'
import { createVerifiedRecords, VERIFIED_RECORD_OVERHEAD } from '../src/verified-records.js'

function metadata(version: number, size: number): UCXLMetadata {
  return {
    address: `ucxl://agent:role@project:task/*~${version}`,
    baseAddress: 'ucxl://agent:role@project:task/',
    version,
    creatorRole: 'backend_developer',
    encryptedFor: ['backend_developer', 'architect'],
    contentType: 'text/plain',
    timestamp: 1,
    size,
    hash: 'a'.repeat(64),
    envelopeHash: 'b'.repeat(64),
    previous: null,
    author: 'c'.repeat(64),
    dhtPeers: [],
    replicationFactor: 3
  } as unknown as UCXLMetadata
}

const opener = { role: 'backend_developer' }

describe('ContentCache byte bound', () => {
  it('holds with large values: never above maxBytes, a value larger than the bound is not kept', () => {
    const maxBytes = 1024 * 1024
    const cache = new ContentCache({ ttl: 60_000, maxBytes })
    for (let i = 0; i < 200; i++) {
      const content = new Uint8Array(50_000 + ((i * 7919) % 100_000))
      cache.put(`ucxl://a:r@p:t/k${i}`, content, metadata(1, content.byteLength), i % 2 === 0, opener)
      expect(cache.bytes).toBeLessThanOrEqual(maxBytes)
    }
    expect(cache.size).toBeGreaterThan(3)
    const huge = new Uint8Array(maxBytes)
    cache.put('ucxl://a:r@p:t/huge', huge, metadata(1, huge.byteLength), true, opener)
    expect(cache.get(ContentCache.versionKey('ucxl://a:r@p:t/huge', 1))).toBeUndefined()
    expect(cache.bytes).toBeLessThanOrEqual(maxBytes)
  })

  it('bounds many small entries by their metadata, key and overhead, not by a count', () => {
    const maxBytes = 100_000
    const cache = new ContentCache({ ttl: 60_000, maxBytes })
    for (let i = 0; i < 5_000; i++) {
      cache.put(`ucxl://a:r@p:t/small${i}`, new Uint8Array(0), metadata(1, 0), false, opener)
      expect(cache.bytes).toBeLessThanOrEqual(maxBytes)
    }
    // an empty value still costs its overhead: far fewer than 5,000 are held
    expect(cache.size).toBeLessThanOrEqual(maxBytes / CACHE_ENTRY_OVERHEAD)
    expect(cache.size).toBeGreaterThan(50)
  })
})

describe('verified-record memo byte bound', () => {
  it('bounds remembered refusals and records in bytes', () => {
    const maxBytes = 20_000
    const memo = createVerifiedRecords({ maxBytes })
    for (let i = 0; i < 2_000; i++) {
      expect(() =>
        memo.open(new TextEncoder().encode(`bad ${i}`), 'limits', () => {
          throw new Error('malformed')
        })
      ).toThrow('malformed')
      expect(memo.stats().bytes).toBeLessThanOrEqual(maxBytes)
    }
    expect(memo.stats().entries).toBeLessThanOrEqual(maxBytes / VERIFIED_RECORD_OVERHEAD)
    // a refusal is remembered: the same bad bytes again are a hit
    const hits = memo.stats().hits
    expect(() => memo.open(new TextEncoder().encode('bad 1999'), 'limits', () => ({}) as never)).toThrow()
    expect(memo.stats().hits).toBe(hits + 1)
  })
})
