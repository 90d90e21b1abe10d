/** The record store's count: a counter kept on writes and removes, not a scan per call. */
import { Key } from 'interface-datastore'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { kadRecordsPrefix } from '../../src/libp2p/kad-internals.js'
import { RECORD_RECOUNT_INTERVAL } from '../../src/libp2p/record-store.js'
import { memoryRecords } from './fakes.js'

const enc = new TextEncoder()

afterEach(() => vi.useRealTimers())

/** What a scan of the datastore finds. */
async function recount(datastore: ReturnType<typeof memoryRecords>['datastore']): Promise<number> {
  let n = 0
  for await (const _ of datastore.queryKeys({ prefix: kadRecordsPrefix('/dht') })) n++
  return n
}

describe('RecordStore.count', () => {
  it('equals a recount after a random sequence of writes and removes, and scans only once', async () => {
    const { store, datastore } = memoryRecords()
    await store.write('/CHORUS/first', enc.encode('x'))
    expect(await store.count()).toBe(1)
    const scans = vi.spyOn(datastore, 'queryKeys')
    let seed = 11
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    for (let i = 0; i < 400; i++) {
      const key = `/CHORUS/k${rand(60)}`
      if (rand(3) === 0) await store.remove(key)
      else await store.write(key, enc.encode(`v${i}`))
      if (i % 50 === 0) expect(await store.count()).toBe(await recount(datastore))
    }
    const calls = scans.mock.calls.length
    expect(await store.count()).toBe(await recount(datastore))
    // the 8 recounts above are the test's own: count() itself scanned no more
    expect(calls).toBe(8)
  })

  it('takes in records stored past it (by kad-dht) at a background recount once the count is old', async () => {
    const { store, datastore } = memoryRecords()
    await store.write('/CHORUS/a', enc.encode('a'))
    expect(await store.count()).toBe(1)
    // kad-dht stores a record a peer sent, straight into the datastore
    await datastore.put(new Key(`${kadRecordsPrefix('/dht')}/OTHER`), enc.encode('raw'))
    expect(await store.count()).toBe(1)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + RECORD_RECOUNT_INTERVAL + 1)
    // answered at once with the figure it had; the recount runs behind
    expect(await store.count()).toBe(1)
    await new Promise((r) => setImmediate(r))
    expect(await store.count()).toBe(2)
  })
})
