// The facade's lifecycle and the background component, without a network.
import { join } from 'node:path'
import { pause } from '@chorus/common'
import type { LocalDHT, PeerMessaging } from '@chorus/dht'
import { beforeAll, describe, expect, it } from 'vitest'
import { Background } from '../src/background.js'
import { StorageNotStartedError, StorageTimeoutError } from '../src/errors.js'
import { createEncryptedStorage } from '../src/index.js'
import { makeSigner, nodeCrypto, teamKeys } from '../src/testing.js'
import { useLocalDHT } from './helpers.js'

describe('Background', () => {
  const background = (max: number, storeTimeout = 1_000) => {
    const metrics = { backpressureWaits: 0 }
    return {
      bg: new Background({ metrics }, { backgroundTimeout: 5_000, maxBackgroundTasks: max, storeTimeout }),
      metrics
    }
  }

  it('room() waits while the limit is reached, then lets the caller through', async () => {
    const { bg, metrics } = background(1)
    bg.track(pause(50))
    const t0 = Date.now()
    await bg.room(new AbortController().signal)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40)
    expect(metrics.backpressureWaits).toBe(1)
  })

  it('room() gives a typed timeout when nothing drains', async () => {
    const { bg } = background(1, 50)
    let release!: () => void
    bg.track(new Promise<void>((r) => (release = r)))
    await expect(bg.room(new AbortController().signal)).rejects.toBeInstanceOf(StorageTimeoutError)
    release()
    await bg.drain()
  })

  it('stop() aborts the running tasks and waits for them; start() makes a fresh signal', async () => {
    const { bg } = background(4)
    let aborted = false
    bg.run('long task', async (signal) => {
      await pause(10_000, { signal })
      aborted = signal.aborted
    })
    expect(bg.size).toBe(1)
    await bg.stop()
    expect(aborted).toBe(true)
    expect(bg.size).toBe(0)
    bg.start()
    expect(bg.signal.aborted).toBe(false)
  })
})

describe('EncryptedDHTStorage lifecycle', () => {
  const local = useLocalDHT()
  const keys = teamKeys()
  let dht: LocalDHT
  beforeAll(() => {
    dht = local.dht
  })

  it('a start that fails part way stops what it started, and a later start works', async () => {
    let failing = true
    const messaging = {
      peerId: 'me',
      handle: async () => {
        if (failing) throw new Error('protocol registry unavailable')
      },
      unhandle: async () => {},
      request: async () => new Uint8Array(),
      getConnectedPeers: () => []
    } as unknown as PeerMessaging
    const { roles, keyring, crypto } = nodeCrypto(keys, ['backend_developer'])
    const storage = createEncryptedStorage(
      { dht, crypto, roles, keyring, signer: makeSigner(), messaging },
      { dataDir: join(local.dir, 'node'), nodeId: 'node', writeQuorum: 0 }
    )
    await expect(storage.start()).rejects.toThrow('protocol registry unavailable')
    expect(storage.isStarted()).toBe(false)
    await expect(storage.listContentByRole('backend_developer')).rejects.toBeInstanceOf(
      StorageNotStartedError
    )
    failing = false
    await storage.start()
    await storage.start() // idempotent
    const stored = await storage.storeUCXLContent(
      'ucxl://a:backend_developer@p:t/*^/x',
      'x',
      'backend_developer',
      'note'
    )
    expect(stored.version).toBe(1)
    await storage.stop()
    await storage.stop() // idempotent
    expect(() => storage.localVersion('ucxl://a:backend_developer@p:t/x')).toThrow(StorageNotStartedError)
  })

  it('refuses to be built without its required components and options', () => {
    const { roles, keyring, crypto } = nodeCrypto(keys, [])
    const components = { dht, crypto, roles, keyring, signer: makeSigner() }
    expect(() => createEncryptedStorage(components, { dataDir: '', nodeId: 'n' })).toThrow(
      'init.dataDir is required'
    )
    expect(() =>
      createEncryptedStorage({ ...components, signer: undefined as never }, { dataDir: '/d', nodeId: 'n' })
    ).toThrow('components.signer is required')
  })
})
