import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { describe, expect, it } from 'vitest'
import { cachedDatastore } from '../../src/libp2p/cached-datastore.js'

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill)

/** A datastore that counts the reads reaching it. */
function counted() {
  const inner = new MemoryDatastore()
  let reads = 0
  const get = inner.get.bind(inner)
  inner.get = (key, options) => {
    reads++
    return get(key, options)
  }
  return { inner, reads: () => reads }
}

describe('cachedDatastore', () => {
  it('writes peer records behind, in one batch: reads, queries and close see every one', async () => {
    const { inner } = counted()
    let batches = 0
    const batch = inner.batch.bind(inner)
    inner.batch = () => {
      batches++
      return batch()
    }
    const store = cachedDatastore(inner, 1_000_000)
    const peers = [new Key('/peers/a'), new Key('/peers/b')]
    for (let round = 1; round <= 3; round++) for (const k of peers) await store.put(k, bytes(8, round))
    // not written yet: the peer store rewrites a record on every stream, LevelDB gets the last one
    expect(await inner.has(peers[0]!)).toBe(false)
    expect(await store.get(peers[0]!)).toEqual(bytes(8, 3))
    expect(await store.has(peers[1]!)).toBe(true)
    // a query first writes what waits, so the peer store's listing misses no peer
    const listed = []
    for await (const { key, value } of store.query({ prefix: '/peers' }))
      listed.push([key.toString(), value[0]])
    expect(listed).toEqual([
      ['/peers/a', 3],
      ['/peers/b', 3]
    ])
    expect(batches).toBe(1)
    // a delete is not undone by an earlier write still waiting
    await store.put(peers[0]!, bytes(8, 4))
    await store.delete(peers[0]!)
    await store.put(new Key('/peers/c'), bytes(8, 5))
    await store.close?.()
    expect(await inner.has(peers[0]!)).toBe(false)
    expect(await inner.get(new Key('/peers/c'))).toEqual(bytes(8, 5))
  })

  it('serves repeated reads from memory; writes and deletes reach the datastore and the cache alike', async () => {
    const { inner, reads } = counted()
    const store = cachedDatastore(inner, 1_000_000)
    const k = new Key('/dht/record/a')
    await store.put(k, bytes(10, 1))
    expect(await store.get(k)).toEqual(bytes(10, 1))
    expect(await store.get(k)).toEqual(bytes(10, 1))
    expect(reads()).toBe(0)
    expect(await inner.get(k)).toEqual(bytes(10, 1))
    await store.put(k, bytes(10, 2))
    expect(await store.get(k)).toEqual(bytes(10, 2))
    // a caller that changes what it read changes neither the cache nor the datastore
    const got = await store.get(k)
    got[0] = 99
    expect(await store.get(k)).toEqual(bytes(10, 2))
    // nor one that changes what it wrote: the cache keeps a copy, not a view (a Buffer's slice()
    // is a view, and would have kept the writer's whole 64 KiB buffer)
    const slab = Buffer.alloc(65_536, 3)
    await store.put(k, slab.subarray(100, 110))
    slab.fill(4)
    expect(await store.get(k)).toEqual(bytes(10, 3))
    await store.delete(k)
    await expect(store.get(k)).rejects.toMatchObject({ name: 'NotFoundError' })
    expect(await store.has(k)).toBe(false)
  })

  it('reads a value written around it once, then from memory', async () => {
    const { inner, reads } = counted()
    await inner.put(new Key('/x'), bytes(4))
    const store = cachedDatastore(inner, 1_000_000)
    await store.get(new Key('/x'))
    await store.get(new Key('/x'))
    expect(reads()).toBe(1)
  })

  it('stays within its byte budget, dropping the least recently used first', async () => {
    const { inner, reads } = counted()
    const store = cachedDatastore(inner, 1000)
    for (let i = 0; i < 20; i++) await store.put(new Key(`/k/${i}`), bytes(100, i))
    expect(store.cachedBytes).toBeLessThanOrEqual(1000)
    expect(store.cachedBytes).toBeGreaterThan(0)
    await store.get(new Key('/k/19'))
    expect(reads()).toBe(0)
    expect(await store.get(new Key('/k/0'))).toEqual(bytes(100, 0))
    expect(reads()).toBe(1)
    // a value over an eighth of the budget is written but never cached
    await store.put(new Key('/big'), bytes(200))
    await store.get(new Key('/big'))
    expect(reads()).toBe(2)
  })

  it('applies a committed batch to both, and a failed one leaves nothing stale', async () => {
    const { inner } = counted()
    const store = cachedDatastore(inner, 1_000_000)
    await store.put(new Key('/a'), bytes(3, 1))
    const b = store.batch()
    b.put(new Key('/a'), bytes(3, 2))
    b.put(new Key('/b'), bytes(3, 3))
    b.delete(new Key('/a'))
    await b.commit()
    await expect(store.get(new Key('/a'))).rejects.toMatchObject({ name: 'NotFoundError' })
    expect(await store.get(new Key('/b'))).toEqual(bytes(3, 3))
    const failing = cachedDatastore(
      Object.assign(Object.create(inner), {
        batch: () => ({ put() {}, delete() {}, commit: async () => Promise.reject(new Error('disk full')) })
      }),
      1_000_000
    )
    await failing.put(new Key('/c'), bytes(3, 1))
    const f = failing.batch()
    f.put(new Key('/c'), bytes(3, 9))
    await expect(f.commit()).rejects.toThrow('disk full')
    expect(await failing.get(new Key('/c'))).toEqual(bytes(3, 1))
  })

  it('reads a miss without an exception, over a store that can and one that cannot', async () => {
    const { inner, reads } = counted()
    const store = cachedDatastore(inner, 1_000_000)
    expect(await store.getIfPresent(new Key('/none'))).toBeUndefined()
    await store.put(new Key('/x'), bytes(4, 7))
    expect(await store.getIfPresent(new Key('/x'))).toEqual(bytes(4, 7))
    // a hit is served from the cache; the miss went to the store (which throws, and is caught)
    expect(reads()).toBe(1)
    await store.put(new Key('/peers/p'), bytes(2, 1))
    expect(await store.getIfPresent(new Key('/peers/p'))).toEqual(bytes(2, 1))
  })
})
