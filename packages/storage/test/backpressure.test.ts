import { join } from 'node:path'
import { createLocalDHT, type DHT, type LocalDHT } from '@chorus/dht'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chorusRecordRules, type EncryptedStorage, StorageTimeoutError } from '../src/index.js'
import { startStorage, teamKeys } from './fixtures.js'
import { makeSigner, tempDir } from './helpers.js'

const address = (n: number) => `ucxl://agent001:backend_developer@bp:task/*^/record-${n}`
const settledWithin = <T>(p: Promise<T>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))])

/**
 * A real LocalDHT whose network puts (not `localOnly`) wait until `open()`: the background kad
 * puts a store leaves behind stay in flight for as long as the test wants.
 */
function slowNetworkPuts(dht: LocalDHT): { dht: DHT; open: () => void } {
  let open!: () => void
  const gate = new Promise<void>((r) => {
    open = r
  })
  const slow = new Proxy(dht, {
    get(target, key, receiver) {
      if (key === 'putValue') {
        return async (k: string, v: Uint8Array, o?: { localOnly?: boolean }) => {
          if (o?.localOnly !== true) await gate
          return target.putValue(k, v, o)
        }
      }
      const value = Reflect.get(target, key, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  return { dht: slow, open }
}

describe('store backpressure (maxBackgroundTasks)', () => {
  const keys = teamKeys()
  const tmp = tempDir()
  let base: LocalDHT
  const opened: (() => void)[] = []
  const storages: EncryptedStorage[] = []

  beforeAll(async () => {
    base = createLocalDHT({ dataDir: join(tmp.dir, 'dht'), records: chorusRecordRules() })
    await base.start()
  })
  afterAll(async () => {
    for (const open of opened) open()
    for (const s of storages) await s.stop()
    await base.close()
    tmp.remove()
  })

  async function storage(name: string, init: { maxBackgroundTasks: number; storeTimeout?: number }) {
    const slow = slowNetworkPuts(base)
    opened.push(slow.open)
    const s = await startStorage({
      dht: slow.dht,
      signer: makeSigner(),
      keys,
      plays: ['backend_developer'],
      init: { dataDir: join(tmp.dir, name), nodeId: name, writeQuorum: 0, ...init }
    })
    storages.push(s)
    return { storage: s, open: slow.open }
  }

  it('holds a store while the background work of earlier stores fills the limit, then lets it through', async () => {
    const { storage: s, open } = await storage('a', { maxBackgroundTasks: 4 })
    // Each store leaves two kad puts (version key and head) running in the background.
    await s.storeUCXLContent(address(1), 'one', 'backend_developer', 'text/plain')
    await s.storeUCXLContent(address(2), 'two', 'backend_developer', 'text/plain')
    expect(s.getMetrics().backgroundTasks).toBe(4)
    const third = s.storeUCXLContent(address(3), 'three', 'backend_developer', 'text/plain')
    expect(await settledWithin(third, 500)).toBe(false)
    expect(s.getMetrics().backpressureWaits).toBeGreaterThan(0)
    open()
    const stored = await third
    expect(stored.version).toBe(1)
    const read = await s.retrieveUCXLContent(address(3))
    expect(new TextDecoder().decode(read.content)).toBe('three')
    await s.whenIdle()
    expect(s.getMetrics().backgroundTasks).toBe(0)
  })

  it('gives a typed timeout, and stores nothing, when the background work never drains', async () => {
    const { storage: s } = await storage('b', { maxBackgroundTasks: 2, storeTimeout: 400 })
    await s.storeUCXLContent(address(10), 'first', 'backend_developer', 'text/plain')
    const err = await s
      .storeUCXLContent(address(11), 'second', 'backend_developer', 'text/plain')
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StorageTimeoutError)
    expect(s.localVersion(address(11))).toBeUndefined()
  })
})
