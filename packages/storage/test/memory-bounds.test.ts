/**
 * The content cache and the verified-record memo are bounded in bytes: many small entries are
 * bounded as well as a few large ones, and the bound holds after every insert; what they count is
 * what they hold (their own copies).
 */
import { describe, expect, it } from 'vitest'
import { CACHE_ENTRY_OVERHEAD, ContentCache } from '../src/cache.js'
import type { Envelope } from '../src/envelope.js'
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

// A Buffer's `slice()` is a view: a cache keeping it keeps the whole backing buffer (a 64 KiB read,
// an 8 KiB pool slab) while counting only the view. Each cache keeps a copy of its own.
describe('caches keep copies, never views of a larger buffer', () => {
  const viewOf = (n: number) => Buffer.alloc(65_536, 7).subarray(1_000, 1_000 + n)

  it('the content cache', () => {
    const cache = new ContentCache({ ttl: 60_000, maxBytes: 1_000_000 })
    const content = viewOf(1_024)
    cache.put('ucxl://a:r@p:t/k', content, metadata(1, content.byteLength), true, opener)
    const held = cache.get(ContentCache.versionKey('ucxl://a:r@p:t/k', 1))!.content
    expect(held.buffer.byteLength).toBe(1_024)
    content[0] = 99 // the caller's buffer changes; the cached plaintext does not
    expect(held[0]).toBe(7)
  })

  it('the verified-record memo, for a record this node vouched for', () => {
    const memo = createVerifiedRecords()
    const value = new TextEncoder().encode('record bytes')
    const envelope = {
      ciphertext: viewOf(2_000),
      author: viewOf(32),
      certificate: viewOf(368),
      previous: null,
      signature: viewOf(64),
      metadata: { ciphertextHash: viewOf(32), encryptedFor: ['backend_developer'] }
    } as unknown as Envelope
    memo.vouch(value, envelope)
    const opened = memo.open(value, 'limits', () => {
      throw new Error('not verified again')
    })
    for (const bytes of [
      opened.ciphertext,
      opened.author,
      opened.certificate!,
      opened.signature,
      opened.metadata.ciphertextHash
    ]) {
      expect(bytes.buffer.byteLength).toBe(bytes.byteLength)
    }
  })
})
