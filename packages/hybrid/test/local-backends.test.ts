import { join } from 'node:path'
import {
  createLocalDHT,
  type DHT,
  DHTTimeoutError,
  InvalidRecordError,
  type LocalDHT,
  type Logger,
  NotFoundError,
  NotStartedError
} from '@chorus/dht'
import { permissiveRecords } from '@chorus/dht/testing'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createHybridDHT,
  type HealthProbe,
  HybridConfigError,
  type HybridDHT,
  type HybridDHTInit
} from '../src/index.js'
import { Cleanup, dec, enc, waitFor } from './helpers.js'

/**
 * Fast tests of the state machine and the journal with a LocalDHT standing in for the network: a
 * LocalDHT can really be stopped (its operations then fail with NotStartedError) and started again.
 * `Recorder` wraps it to log the order of puts and, when `hang` is set, to never answer.
 */
class Recorder implements DHT {
  readonly puts: string[] = []
  /** Operations that reached this backend. */
  calls = 0
  hang = false
  constructor(readonly inner: LocalDHT) {}
  #gate<T>(fn: () => Promise<T>): Promise<T> {
    this.calls++
    // Ignores the signal on purpose: the hybrid's own time limit must still end the wait.
    return this.hang ? new Promise<T>(() => {}) : fn()
  }
  putValue: DHT['putValue'] = (k, v, o) =>
    this.#gate(async () => {
      const r = await this.inner.putValue(k, v, o)
      this.puts.push(k)
      // A local backend has no peers; as the network primary it reports one so the put counts.
      return { ...r, acks: ['peer-x'] }
    })
  getValue: DHT['getValue'] = (k, o) => this.#gate(() => this.inner.getValue(k, o))
  getValues: DHT['getValues'] = (k, o) => this.#gate(() => this.inner.getValues(k, o))
  provide: DHT['provide'] = (k, o) => this.#gate(() => this.inner.provide(k, o))
  findProviders: DHT['findProviders'] = (k, o) => this.#gate(() => this.inner.findProviders(k, o))
  getClosestPeers: DHT['getClosestPeers'] = (k, o) => this.#gate(() => this.inner.getClosestPeers(k, o))
}

/** Passes while the stand-in primary answers at all. */
const answersProbe: HealthProbe = async (primary, { signal }) => {
  await primary.getValues('/CHORUS/probe', { signal })
}

const cleanup = new Cleanup()
afterEach(() => cleanup.run())

function setup(init: Partial<HybridDHTInit> = {}, logger?: Logger) {
  const dir = cleanup.dir('unit')
  const primaryStore = cleanup.add(
    createLocalDHT({ dataDir: join(dir, 'primary'), records: permissiveRecords, peerId: 'network' })
  )
  const primary = new Recorder(primaryStore)
  const local = cleanup.add(createLocalDHT({ dataDir: join(dir, 'local'), records: permissiveRecords }))
  const make = (extra: Partial<HybridDHTInit> = {}): HybridDHT =>
    cleanup.add(
      createHybridDHT(
        { primary, fallback: local, ...(logger ? { logger } : {}) },
        { dataDir: join(dir, 'journal'), probe: answersProbe, probeInterval: 0, ...init, ...extra }
      )
    )
  return { dir, primaryStore, primary, local, hybrid: make(), make }
}

describe('HybridDHT with a stoppable primary', () => {
  it('writes through to both backends while the primary is healthy', async () => {
    const { hybrid, primaryStore, local } = setup()
    const r = await hybrid.putValue('/CHORUS/a', enc.encode('one'))
    expect(r).toEqual({ key: '/CHORUS/a', acks: ['peer-x'], storedLocally: true })
    expect(dec.decode(await primaryStore.getValue('/CHORUS/a'))).toBe('one')
    expect(dec.decode(await local.getValue('/CHORUS/a'))).toBe('one')
    expect(hybrid.pendingWrites()).toBe(0)
    await hybrid.provide('/CHORUS/a')
    expect((await hybrid.findProviders('/CHORUS/a')).map((p) => p.id).sort()).toEqual(['network', 'self'])
  })

  it('keeps a record for its own store once: in the primary while it takes it, locally when it cannot', async () => {
    const { hybrid, primaryStore, local } = setup({ failureThreshold: 1 })
    const own = await hybrid.putValue('/CHORUS/own', enc.encode('one'), { localOnly: true })
    expect(own).toEqual({ key: '/CHORUS/own', acks: [], storedLocally: true })
    expect(dec.decode(await primaryStore.getValue('/CHORUS/own'))).toBe('one')
    await expect(local.getValue('/CHORUS/own')).rejects.toBeInstanceOf(NotFoundError)
    // an invalid record is refused by the primary's store, and the local one never sees it
    await expect(
      hybrid.putValue('/CHORUS/big', new Uint8Array(2 * 1024 * 1024), { localOnly: true })
    ).rejects.toBeInstanceOf(InvalidRecordError)

    await primaryStore.stop()
    const kept = await hybrid.putValue('/CHORUS/kept', enc.encode('two'), { localOnly: true })
    expect(kept).toEqual({ key: '/CHORUS/kept', acks: [], storedLocally: true })
    expect(dec.decode(await local.getValue('/CHORUS/kept'))).toBe('two')
    expect(dec.decode(await hybrid.getValue('/CHORUS/kept'))).toBe('two')
    expect(hybrid.pendingWrites()).toBe(0)
    // failed over (the network unreachable, its own store still there), the own store answers
    expect(hybrid.getActiveBackend()).toBe('mock')
    await primaryStore.start()
    expect(dec.decode(await hybrid.getValue('/CHORUS/own'))).toBe('one')
  })

  it('a read of its own record while an older put of the key is journaled returns both copies', async () => {
    const { hybrid, primaryStore, primary } = setup({ failureThreshold: 1 })
    // the network refuses puts (no peers yet), the primary's own store still takes its records
    const put = primary.putValue
    primary.putValue = (k, v, o) =>
      o?.localOnly === true ? put(k, v, o) : Promise.reject(new Error('no peers'))
    await hybrid.putValue('/CHORUS/h', enc.encode('older')).catch(() => undefined)
    expect(hybrid.pendingWrites()).toBe(1)
    hybrid.switchBackend('real')
    // a newer record, put after the primary is back: kept once, in its own store
    await hybrid.putValue('/CHORUS/h', enc.encode('newer'), { localOnly: true })
    expect(dec.decode(await primaryStore.getValue('/CHORUS/h'))).toBe('newer')
    expect(hybrid.pendingWrites()).toBe(1)
    // the journaled local copy first, and the own store's newer one too (a writer that saw only the
    // older one signed a second version after a restart: a fork)
    const got = await hybrid.getValues('/CHORUS/h', { localOnly: true })
    expect(got.map((v) => `${dec.decode(v.value)}@${v.from}`)).toEqual(['older@self', 'newer@self'])
  })

  it('refuses an invalid record without journaling it or touching the primary', async () => {
    const { hybrid, primary } = setup()
    await expect(hybrid.putValue('/CHORUS/big', new Uint8Array(2 * 1024 * 1024))).rejects.toBeInstanceOf(
      InvalidRecordError
    )
    await expect(hybrid.putValue('/nonamespace', enc.encode('x'))).rejects.toMatchObject({
      name: 'InvalidKeyError'
    })
    expect(primary.puts).toEqual([])
    expect(hybrid.pendingWrites()).toBe(0)
    expect(hybrid.getBackendHealth().real.status).toBe('healthy')
  })

  it('fails over after the threshold, replays in order with the latest value per key, and fails back', async () => {
    const { hybrid, primary, primaryStore } = setup({ failureThreshold: 2, replayConcurrency: 1 })
    await primaryStore.stop()
    for (const [k, v] of [
      ['k1', 'a'],
      ['k2', 'b'],
      ['k3', 'c'],
      ['k1', 'd']
    ] as const) {
      expect(await hybrid.putValue(`/CHORUS/${k}`, enc.encode(v))).toMatchObject({
        acks: [],
        storedLocally: true
      })
    }
    await hybrid.probe()
    expect(hybrid.getActiveBackend()).toBe('mock')
    expect(hybrid.getBackendHealth().real.status).toBe('failed')
    expect(hybrid.pendingWrites()).toBe(4)
    expect(dec.decode(await hybrid.getValue('/CHORUS/k1'))).toBe('d')
    const values = await hybrid.getValues('/CHORUS/k1')
    expect(values.map((v) => [v.from, dec.decode(v.value)])).toEqual([['self', 'd']])

    await primaryStore.start()
    expect(await hybrid.probe()).toBe(true)
    expect(hybrid.getActiveBackend()).toBe('mock') // one success is not enough (recoveryThreshold 2)
    expect(await hybrid.probe()).toBe(true)
    expect(hybrid.getActiveBackend()).toBe('real')
    await waitFor('the replay', () => hybrid.pendingWrites() === 0, 10_000)
    expect(primary.puts).toEqual(['/CHORUS/k2', '/CHORUS/k3', '/CHORUS/k1'])
    expect(dec.decode(await primaryStore.getValue('/CHORUS/k1'))).toBe('d')
    const m = hybrid.getMetrics()
    expect(m).toMatchObject({ failovers: 1, failbacks: 1 })
    expect(m.journal).toMatchObject({
      appended: 4,
      replayed: 3,
      dropped: 0,
      pending: 0,
      lastReplayError: null
    })
  })

  it('keeps the journal across a restart of the hybrid and replays it on start', async () => {
    const { primaryStore, primary, make } = setup()
    const first = make()
    await primaryStore.stop()
    await first.putValue('/CHORUS/x', enc.encode('kept'))
    await first.provide('/CHORUS/x')
    expect(first.pendingWrites()).toBe(2)
    await first.close()
    await primaryStore.start()
    const second = make()
    expect(second.pendingWrites()).toBe(2)
    await waitFor('the replay after start', () => second.pendingWrites() === 0, 10_000)
    expect(primary.puts).toEqual(['/CHORUS/x'])
    expect(await primaryStore.findProviders('/CHORUS/x')).toEqual([{ id: 'network', multiaddrs: [] }])
  })

  it('bounds a hung primary by operationTimeout and answers from the local backend', async () => {
    const { hybrid, primary } = setup({ operationTimeout: 200, failureThreshold: 5 })
    await hybrid.putValue('/CHORUS/early', enc.encode('before the hang'))
    primary.hang = true
    const r = await hybrid.putValue('/CHORUS/late', enc.encode('during the hang'))
    expect(r).toMatchObject({ acks: [], storedLocally: true })
    expect(hybrid.pendingWrites()).toBe(1)
    // A journaled key reads locally without asking the network.
    expect(dec.decode(await hybrid.getValue('/CHORUS/late'))).toBe('during the hang')
    // Another key asks the network, times out and falls back to the local copy.
    expect(dec.decode(await hybrid.getValue('/CHORUS/early'))).toBe('before the hang')
    // Nothing anywhere and the network timed out: the timeout, not a false "not found".
    await expect(hybrid.getValue('/CHORUS/nowhere')).rejects.toBeInstanceOf(DHTTimeoutError)
    const health = hybrid.getBackendHealth().real
    expect(health).toMatchObject({ status: 'degraded', consecutive: 3, errorCount: 3 })
    expect(health.latency).toBeGreaterThanOrEqual(150)
    expect(hybrid.getMetrics().backends.real.errors).toBe(3)
  })

  it('journals a put interrupted by shutdown instead of losing it', async () => {
    const { primary, make } = setup({ operationTimeout: 60_000 })
    const hybrid = make()
    primary.hang = true
    const calls = primary.calls
    const put = hybrid.putValue('/CHORUS/in-flight', enc.encode('v'))
    await waitFor('the put to reach the hung primary', () => primary.calls > calls, 10_000)
    await hybrid.stop()
    await expect(put).resolves.toMatchObject({ acks: [], storedLocally: true })
    await expect(hybrid.getValue('/CHORUS/in-flight')).rejects.toBeInstanceOf(NotStartedError)
    await hybrid.start()
    expect(hybrid.pendingWrites()).toBe(1)
    primary.hang = false
    expect(hybrid.isStarted()).toBe(true)
  })

  it('honours a caller abort without counting it against the backend', async () => {
    const { hybrid, primary } = setup({ operationTimeout: 60_000 })
    await expect(hybrid.getValue('/CHORUS/a', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError'
    })
    primary.hang = true
    const controller = new AbortController()
    const get = hybrid.getValue('/CHORUS/a', { signal: controller.signal })
    setTimeout(() => controller.abort(), 30)
    await expect(get).rejects.toMatchObject({ name: 'AbortError' })
    expect(hybrid.getBackendHealth().real).toMatchObject({ status: 'healthy', errorCount: 0 })
  })

  it('reads what the network has when the local copy is missing, and reports NotFound honestly', async () => {
    const { hybrid, primaryStore } = setup()
    await primaryStore.putValue('/CHORUS/remote', enc.encode('from elsewhere'))
    expect(dec.decode(await hybrid.getValue('/CHORUS/remote'))).toBe('from elsewhere')
    await expect(hybrid.getValue('/CHORUS/none')).rejects.toBeInstanceOf(NotFoundError)
    expect(await hybrid.getValues('/CHORUS/none')).toEqual([])
    expect(await hybrid.getClosestPeers('/CHORUS/none')).toEqual([])
  })

  it('validates its options and has an idempotent lifecycle', async () => {
    const warnings: string[] = []
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (o, m) => warnings.push(typeof o === 'string' ? o : (m ?? '')),
      error() {}
    }
    const { primary, local } = setup()
    expect(() => createHybridDHT({ primary, fallback: local }, { failureThreshold: 0 })).toThrow(
      HybridConfigError
    )
    expect(() => createHybridDHT({ primary, fallback: local }, { probeInterval: -1 })).toThrow(
      HybridConfigError
    )
    expect(() => createHybridDHT({ primary, fallback: local }, { mode: 'x' as 'auto' })).toThrow(
      HybridConfigError
    )
    expect(() => createHybridDHT({ primary } as never, {})).toThrow(HybridConfigError)
    const memory = createHybridDHT({ primary, fallback: local, logger }, { probeInterval: 0 })
    expect(warnings.some((w) => w.includes('in memory'))).toBe(true)
    await memory.start()
    await memory.stop()
    await memory.stop()
    expect(memory.isStarted()).toBe(false)
    await expect(memory.putValue('/CHORUS/a', enc.encode('x'))).rejects.toMatchObject({
      code: 'DHT_NOT_STARTED'
    })
    expect(() => memory.getBackendHealth()).not.toThrow()
    await memory.close()
  })
})
