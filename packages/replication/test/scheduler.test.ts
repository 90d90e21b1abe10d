/** The scheduler and the reprovider's back-off, with fake jobs and an in-memory entry store. */
import { silentLogger } from '@chorus/common'
import { NoPeersAcknowledgedError } from '@chorus/dht'
import { afterEach, describe, expect, it } from 'vitest'
import { type ReplicationConfig, replicationDefaults } from '../src/config.js'
import { DepartureWatch } from '../src/departures.js'
import { ContentEntries, type Entry, newEntry } from '../src/entries.js'
import { createCounters } from '../src/metrics.js'
import { RESERVE_SAMPLE, Reprovider } from '../src/reprovider.js'
import { type JobKind, jobPriority, Scheduler, tickInterval } from '../src/scheduler.js'
import { SWEPT_RENEWAL_INTERVAL } from '../src/timing.js'

const config: ReplicationConfig = { ...replicationDefaults, jitter: 0, maxConcurrentReplications: 1 }
const open: ContentEntries[] = []
afterEach(() => {
  for (const e of open.splice(0)) e.close()
})

function entriesWith(...keys: Array<{ key: string; priority?: number; departed?: number; due?: boolean }>) {
  const entries = new ContentEntries({ dataDir: undefined, config })
  entries.open()
  open.push(entries)
  const now = Date.now()
  for (const k of keys) {
    const at = k.due === false ? now + 3_600_000 : now - 1
    const e = newEntry(
      { key: k.key, size: 1, priority: k.priority ?? 0, createdAt: now, pinned: true, origin: 'local' },
      { nextRepairAt: at, nextProvideAt: at, nextRepublishAt: at }
    )
    if (k.departed != null) e.departed = k.departed
    entries.set(e, new Uint8Array([1]))
  }
  return entries
}

/** A DHT record store that holds nothing. */
const notHeld = async (): Promise<Uint8Array> => {
  throw new Error('not found')
}

/** Jobs that record their order and wait until released. */
function recordingJobs() {
  const order: string[] = []
  let release: () => void = () => {}
  const gate = new Promise<void>((r) => {
    release = r
  })
  const job = (kind: JobKind) => async (entry: Entry) => {
    order.push(`${kind}:${entry.key}`)
    await gate
  }
  return {
    order,
    release: () => release(),
    jobs: {
      repair: job('repair'),
      provide: job('provide'),
      republish: job('republish'),
      cleanup: () => order.push('cleanup'),
      tick: () => {}
    }
  }
}

describe('job priority', () => {
  it('puts repairs first, then provides, then republishes; lost holders and content priority within', () => {
    const e = { priority: 0 }
    expect(jobPriority('repair', e)).toBeGreaterThan(jobPriority('provide', { priority: 99 }))
    expect(jobPriority('provide', e)).toBeGreaterThan(jobPriority('republish', { priority: 99 }))
    expect(jobPriority('repair', { priority: 0, departed: 1 })).toBeGreaterThan(
      jobPriority('repair', { priority: 99 })
    )
    expect(jobPriority('repair', { priority: 0, departed: 9 })).toBe(
      jobPriority('repair', { priority: 0, departed: 3 })
    )
    expect(jobPriority('provide', { priority: 1000 })).toBe(jobPriority('provide', { priority: 99 }))
    expect(jobPriority('provide', { priority: 0, departed: 3 })).toBe(jobPriority('provide', e))
  })

  it('ticks at a quarter of the shortest period, within 100 ms..1 s', () => {
    expect(tickInterval(replicationDefaults)).toBe(1000)
    expect(tickInterval({ ...replicationDefaults, repairBackoffMin: 200 })).toBe(100)
    expect(tickInterval({ ...replicationDefaults, repairRankDelay: 0, repairBackoffMin: 2000 })).toBe(500)
  })
})

describe('Scheduler', () => {
  it('runs due repairs first, by urgency and priority, and announcements only after them', async () => {
    const entries = entriesWith(
      { key: '/CHORUS/low', priority: 1 },
      { key: '/CHORUS/high', priority: 50 },
      { key: '/CHORUS/lost', priority: 0, departed: 2 },
      { key: '/CHORUS/later', due: false }
    )
    const { order, release, jobs } = recordingJobs()
    const scheduler = new Scheduler({ entries, jobs, log: silentLogger }, config)
    const controller = new AbortController()
    scheduler.start(controller.signal)
    // repairs queued first: the announcements then wait for every waiting repair to start
    for (const key of ['/CHORUS/low', '/CHORUS/high', '/CHORUS/lost'])
      scheduler.enqueue('repair', entries.get(key)!)
    scheduler.runDue()
    // the same due jobs again are not queued twice
    scheduler.runDue()
    await new Promise((r) => setTimeout(r, 20))
    release()
    for (let i = 0; i < 100 && order.length < 9; i++) await new Promise((r) => setTimeout(r, 10))
    await scheduler.stop()
    const repairs = order.filter((o) => o.startsWith('repair'))
    // the first repair started at once (concurrency 1); the waiting ones ran by priority
    expect(repairs).toEqual(['repair:/CHORUS/low', 'repair:/CHORUS/lost', 'repair:/CHORUS/high'])
    const firstAnnouncement = order.findIndex((o) => !o.startsWith('repair'))
    expect(firstAnnouncement).toBeGreaterThan(order.lastIndexOf('repair:/CHORUS/high'))
    expect(order.filter((o) => o.startsWith('provide'))).toHaveLength(3)
    expect(order.filter((o) => o.startsWith('republish'))).toHaveLength(3)
    expect(order.some((o) => o.endsWith('/CHORUS/later'))).toBe(false)
  })

  it('skips jobs of removed entries', async () => {
    const entries = entriesWith({ key: '/CHORUS/a' }, { key: '/CHORUS/b' })
    const { order, release, jobs } = recordingJobs()
    const scheduler = new Scheduler({ entries, jobs, log: silentLogger }, config)
    scheduler.start(new AbortController().signal)
    scheduler.runDue()
    entries.delete('/CHORUS/b')
    release()
    for (let i = 0; i < 100 && order.length < 3; i++) await new Promise((r) => setTimeout(r, 10))
    await new Promise((r) => setTimeout(r, 20))
    await scheduler.stop()
    // b was removed before its jobs ran
    expect(order.sort()).toEqual(['provide:/CHORUS/a', 'repair:/CHORUS/a', 'republish:/CHORUS/a'])
  })

  it('drops waiting jobs on stop', async () => {
    const entries = entriesWith({ key: '/CHORUS/a' }, { key: '/CHORUS/b' })
    const { order, release, jobs } = recordingJobs()
    const scheduler = new Scheduler({ entries, jobs, log: silentLogger }, config)
    scheduler.start(new AbortController().signal)
    scheduler.runDue()
    await new Promise((r) => setTimeout(r, 20))
    const stopped = scheduler.stop()
    release()
    await stopped
    // a's repair was running; the announcements waited behind b's waiting repair and were dropped
    expect(order).toEqual(['repair:/CHORUS/a'])
    // stopped: nothing is queued any more
    scheduler.enqueue('repair', entries.get('/CHORUS/a')!)
    await new Promise((r) => setTimeout(r, 10))
    expect(order).toHaveLength(1)
  })

  it('runs cleanup on the tick once its interval passed', async () => {
    const entries = entriesWith()
    const { order, jobs } = recordingJobs()
    const scheduler = new Scheduler({ entries, jobs, log: silentLogger }, config)
    scheduler.start(new AbortController().signal)
    scheduler.runDue()
    expect(order).toEqual([])
    scheduler.runDue(Date.now() + config.cleanupInterval + 1)
    expect(order).toEqual(['cleanup'])
    await scheduler.stop()
  })
})

describe('Reprovider republish', () => {
  it('with the sweep, renews the value in its own record store only (kad-dht drops old records), once a day', async () => {
    const puts: Array<{ key: string; localOnly: boolean }> = []
    for (const enableSweep of [true, false]) {
      const entries = entriesWith({ key: '/CHORUS/k' })
      const reprovider = new Reprovider(
        {
          dht: {
            provide: async (key) => ({ key, peers: ['p1'] }),
            getValue: notHeld,
            putValue: async (key, _value, options) => {
              puts.push({ key, localOnly: options?.localOnly === true })
              return { key, acks: [], storedLocally: true }
            }
          },
          entries,
          touchSelf: () => {},
          counters: createCounters(),
          log: silentLogger
        },
        { ...config, enableSweep }
      )
      const e = entries.get('/CHORUS/k')!
      const before = Date.now()
      await reprovider.republish(e, new AbortController().signal)
      expect(e.lastRepublished).toBeGreaterThanOrEqual(before)
      expect(e.nextRepublishAt - before).toBeGreaterThanOrEqual(config.republishInterval)
      // a local renewal is due every 24 h, whatever the (network) republish interval says
      if (enableSweep) expect(e.nextRepublishAt - before).toBeGreaterThanOrEqual(SWEPT_RENEWAL_INTERVAL)
      else expect(e.nextRepublishAt - before).toBeLessThan(config.republishInterval + 1000)
    }
    // swept: a local write; without the sweep: a put to the network
    expect(puts).toEqual([
      { key: '/CHORUS/k', localOnly: true },
      { key: '/CHORUS/k', localOnly: false }
    ])
  })
})

describe('Reprovider back-off', () => {
  it('retries a failed announcement after an exponential back-off, and resets it on success', async () => {
    const entries = entriesWith({ key: '/CHORUS/k' })
    let fail = true
    const reprovider = new Reprovider(
      {
        dht: {
          getValue: notHeld,
          provide: async (key) => {
            if (fail) throw new Error('no peers')
            return { key, peers: ['p1'] }
          },
          putValue: async (key) => ({ key, acks: [], storedLocally: true })
        },
        entries,
        touchSelf: () => {},
        counters: createCounters(),
        log: silentLogger
      },
      config
    )
    const e = entries.get('/CHORUS/k')!
    const signal = new AbortController().signal
    for (const n of [1, 2, 3]) {
      const before = Date.now()
      await expect(reprovider.reprovide(e, signal)).rejects.toThrow('no peers')
      expect(e.provideFailures).toBe(n)
      const delay = e.nextProvideAt - before
      const expected = config.repairBackoffMin * 2 ** (n - 1)
      expect(delay).toBeGreaterThanOrEqual(expected - 5)
      expect(delay).toBeLessThanOrEqual(expected + 50)
    }
    fail = false
    await reprovider.reprovide(e, signal)
    expect(e.provideFailures).toBe(0)
    expect(e.nextProvideAt - Date.now()).toBeGreaterThan(config.reprovideInterval - 1000)
  })

  it('counts only announcements that reached peers; none reached is a failure, retried', async () => {
    const entries = entriesWith({ key: '/CHORUS/k' })
    let peers: string[] = []
    const counters = createCounters()
    const touched: string[] = []
    const reprovider = new Reprovider(
      {
        // a HybridDHT that journaled the provide resolves with no peers
        dht: {
          provide: async (key) => ({ key, peers }),
          getValue: notHeld,
          putValue: async (key) => ({ key, acks: [], storedLocally: true })
        },
        entries,
        touchSelf: (key) => touched.push(key),
        counters,
        log: silentLogger
      },
      config
    )
    const e = entries.get('/CHORUS/k')!
    const signal = new AbortController().signal
    const err = await reprovider.reprovide(e, signal).catch((x: unknown) => x)
    expect(NoPeersAcknowledgedError.isInstance(err)).toBe(true)
    expect(counters).toMatchObject({
      reprovideOperations: 0,
      failedReprovides: 1,
      lastReprovideTime: undefined
    })
    expect(e.lastReprovided).toBeUndefined()
    expect(e.provideFailures).toBe(1)
    expect(touched).toEqual([])

    peers = ['p1', 'p2']
    const before = Date.now()
    expect(await reprovider.provide(e, signal)).toEqual(['p1', 'p2'])
    expect(counters).toMatchObject({ reprovideOperations: 1, failedReprovides: 1 })
    expect(counters.lastReprovideTime!.getTime()).toBeGreaterThanOrEqual(before)
    expect(e.lastReprovided).toBeGreaterThanOrEqual(before)
    expect(touched).toEqual(['/CHORUS/k'])
  })
})

describe('departure watch', () => {
  it('brings forward the checks of every key a departed peer held, in one statement, held entries too', () => {
    const entries = entriesWith(
      { key: '/CHORUS/a', due: false },
      { key: '/CHORUS/b', due: false },
      { key: '/CHORUS/c', due: false }
    )
    const store = entries.store!
    const now = Date.now()
    store.touchProvider('/CHORUS/a', 'peer-p', now)
    store.touchProvider('/CHORUS/b', 'peer-p', now)
    store.touchProvider('/CHORUS/c', 'peer-q', now)
    // a job holds b: its entry is the canonical copy, which it writes back when it ends
    const heldB = entries.get('/CHORUS/b')!
    entries.hold(heldB)
    let connected = ['peer-p', 'peer-q']
    const forgotten: string[] = []
    const watch = new DepartureWatch(
      {
        messaging: { getConnectedPeers: () => connected },
        entries,
        self: 'peer-self',
        isServer: () => true,
        forget: (peer) => forgotten.push(peer),
        log: silentLogger
      },
      { enableAutoReplication: true }
    )
    watch.check(now)
    connected = ['peer-q']
    watch.check(now)
    expect(forgotten).toEqual(['peer-p'])
    const a = entries.get('/CHORUS/a')!
    expect(a.departed).toBe(1)
    expect(a.nextRepairAt).toBeGreaterThanOrEqual(now)
    expect(a.nextRepairAt).toBeLessThanOrEqual(now + 500)
    expect(heldB.departed).toBe(1)
    expect(heldB.nextRepairAt).toBeLessThanOrEqual(now + 500)
    const c = entries.get('/CHORUS/c')!
    expect(c.departed ?? 0).toBe(0)
    expect(c.nextRepairAt).toBeGreaterThan(now + 60_000)
    entries.release(heldB)
  })

  it('leaves a peer that comes back within the grace alone, and checks the keys of one that stays away', () => {
    const entries = entriesWith({ key: '/CHORUS/a', due: false }, { key: '/CHORUS/b', due: false })
    const now = Date.now()
    entries.store!.touchProvider('/CHORUS/a', 'peer-p', now)
    entries.store!.touchProvider('/CHORUS/b', 'peer-q', now)
    let connected = ['peer-p', 'peer-q']
    const watch = new DepartureWatch(
      {
        messaging: { getConnectedPeers: () => connected },
        entries,
        self: 'peer-self',
        isServer: () => true,
        forget: () => {},
        log: silentLogger
      },
      { enableAutoReplication: true, departureGrace: 10_000 }
    )
    watch.check(now)
    // both drop; p restarts and is back 4 s later, q stays away
    connected = []
    watch.check(now + 1_000)
    connected = ['peer-p']
    watch.check(now + 5_000)
    expect(entries.get('/CHORUS/a')!.departed ?? 0).toBe(0)
    expect(entries.get('/CHORUS/b')!.departed ?? 0).toBe(0)
    watch.check(now + 11_000)
    expect(entries.get('/CHORUS/a')!.departed ?? 0).toBe(0)
    const b = entries.get('/CHORUS/b')!
    expect(b.departed).toBe(1)
    expect(b.nextRepairAt).toBeLessThanOrEqual(now + 11_500)
    // once counted, a later check does not count it again
    watch.check(now + 12_000)
    expect(entries.get('/CHORUS/b')!.departed).toBe(1)
  })
})

describe('re-serving pins at start', () => {
  function setup(store: Map<string, Uint8Array>, keys: string[]) {
    const entries = entriesWith(...keys.map((key) => ({ key })))
    const puts: string[] = []
    let reads = 0
    const reprovider = new Reprovider(
      {
        dht: {
          provide: async (key) => ({ key, peers: [] }),
          getValue: async (key) => {
            reads++
            const v = store.get(key)
            if (v == null) throw new Error('not found')
            return v
          },
          putValue: async (key, value) => {
            puts.push(key)
            store.set(key, value)
            return { key, acks: [], storedLocally: true }
          }
        },
        entries,
        touchSelf: () => {},
        counters: createCounters(),
        log: silentLogger
      },
      config
    )
    return { reprovider, puts, reads: () => reads }
  }
  const keys = Array.from({ length: 300 }, (_, i) => `/CHORUS/pin/${i}`)

  it('reads only a sample of pins when the record store holds them (a restart), nothing per key', async () => {
    // entriesWith pins each key with the value [1]
    const store = new Map(keys.map((k) => [k, new Uint8Array([1])]))
    const s = setup(store, keys)
    expect(await s.reprovider.reserve()).toBe(0)
    expect(s.reads()).toBeLessThanOrEqual(RESERVE_SAMPLE)
    expect(s.puts).toEqual([])
  })

  it('writes every pin the record store lacks or holds in another value once a sample shows it lost', async () => {
    // a record store that was replaced: nothing of it, one key in another value
    const store = new Map<string, Uint8Array>([[keys[7]!, new Uint8Array([9])]])
    const s = setup(store, keys)
    expect(await s.reprovider.reserve()).toBe(300)
    expect(s.puts.length).toBe(300)
    expect(store.get(keys[7]!)).toEqual(new Uint8Array([1]))
    // a second start finds every pin served
    expect(await s.reprovider.reserve()).toBe(0)
  })
})
