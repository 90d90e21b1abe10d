/**
 * Only copies the network can read count: replicas on DHT clients (nodes behind NAT, which
 * lookups cannot reach) and this node's own copy while it is a client are not among the
 * replication factor's holders. A key held only there is short, is pushed to DHT servers (never to
 * clients), and its check comes forward as soon as a server connects (a healed partition).
 * In memory, with fakes of the narrow interfaces.
 */
import { silentLogger } from '@chorus/common'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { testRecord } from '../bench/cluster.ts'
import { replicationDefaults } from '../src/config.js'
import { DepartureWatch } from '../src/departures.js'
import { ContentEntries, newEntry } from '../src/entries.js'
import { HealthTracker } from '../src/health.js'
import { createCounters } from '../src/metrics.js'
import { Repairer } from '../src/repairer.js'
import type { ProviderInfo } from '../src/types.js'

const SELF = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const A = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
const B = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const S = '12D3KooWLBQaYXfZKvKd5M5Ao9hXCP4tJmGzwp8ReZTTuwF2JuS8'
const KEY = '/CHORUS/test/reachable'
const config = { ...replicationDefaults, replicationFactor: 3 }
const HOUR = 3_600_000

let entries: ContentEntries
/** Peers that are DHT clients (behind NAT); the rest are servers. */
let clients: Set<string>
const isServer = (peer: string): boolean => !clients.has(peer)

beforeEach(() => {
  entries = new ContentEntries({ dataDir: undefined, config })
  entries.open()
  clients = new Set()
})
afterEach(() => entries.close())

function pin(key: string, lastHealth?: 'healthy' | 'degraded' | 'critical'): void {
  const now = Date.now()
  const entry = newEntry(
    {
      key,
      size: 5,
      priority: 1,
      createdAt: now,
      pinned: true,
      origin: 'local',
      ...(lastHealth ? { lastHealth, lastActual: 1 } : {})
    },
    { nextRepairAt: now + HOUR, nextProvideAt: now + HOUR, nextRepublishAt: now + HOUR, fresh: false }
  )
  entries.set(entry, testRecord(key))
}

function holder(peerId: string): ProviderInfo {
  const now = new Date()
  return {
    peerId,
    addedAt: now,
    lastSeen: now,
    quality: 1,
    distance: 0,
    xorDistance: '',
    live: true,
    proven: true
  }
}

const tracker = () => new HealthTracker({ entries, peerId: SELF, isServer, emitHealth: () => {} }, config)

describe('replication health counts DHT servers only', () => {
  it('live, proven holders on clients do not count; this node counts only while it is a server', () => {
    pin(KEY)
    clients = new Set([A, B])
    const found = [holder(SELF), holder(A), holder(B), holder(S)]
    expect(tracker().status(KEY, found)).toMatchObject({
      actualReplicas: 2,
      healthyProviders: 1,
      health: 'degraded'
    })
    clients = new Set([SELF, A, B])
    expect(tracker().status(KEY, found)).toMatchObject({ actualReplicas: 1, healthyProviders: 1 })
    clients = new Set()
    expect(tracker().status(KEY, found)).toMatchObject({ actualReplicas: 4, health: 'healthy' })
  })

  it('a record held on a NATed site only is short and is pushed to servers for the whole factor', async () => {
    pin(KEY)
    // written by this node behind NAT, acknowledged by the two other nodes of its site
    clients = new Set([SELF, A, B])
    const pushes: Array<{ holders: string[]; need: number }> = []
    const repairer = new Repairer(
      {
        entries,
        providers: { lookup: async () => [], provenPeers: () => new Set() },
        holders: { holders: async () => [holder(SELF), holder(A), holder(B)] },
        pusher: {
          push: async () => {},
          pushToClosest: async (_record, _value, holders, need) => {
            pushes.push({ holders: [...holders].sort(), need })
            return [S]
          }
        },
        health: tracker(),
        values: { read: async () => undefined, validate: async () => {} },
        peerId: SELF,
        isServer,
        emitHealth: () => {},
        counters: createCounters(),
        log: silentLogger
      },
      config
    )
    const entry = entries.get(KEY)!
    // the closest holder repairs at once; the others wait their rank (not this test's concern)
    const result = await repairer.checkAndRepair(entry, new AbortController().signal, true)
    expect(result).toMatchObject({ before: 0, after: 1, target: 3, pushedTo: [S] })
    // every holder is passed as one not to push to again; all three replicas are missing
    expect(pushes).toEqual([{ holders: [SELF, A, B].sort(), need: 3 }])
    expect(entries.get(KEY)?.lastHealth).toBe('degraded')
  })
})

describe('a DHT server connecting brings the short keys forward', () => {
  function watch(connected: { peers: string[] }) {
    return new DepartureWatch(
      {
        messaging: { getConnectedPeers: () => connected.peers },
        entries,
        self: SELF,
        isServer,
        forget: () => {},
        log: silentLogger
      },
      { enableAutoReplication: true }
    )
  }

  it('checks the keys short of reachable holders within a second; healthy ones keep their time', () => {
    pin('/CHORUS/short', 'critical')
    pin('/CHORUS/fine', 'healthy')
    clients = new Set([A])
    const connected = { peers: [A] }
    const w = watch(connected)
    const now = Date.now()
    w.check(now)
    w.check(now)
    // a client connecting changes nothing: it cannot take the replicas
    connected.peers = [A, B]
    clients.add(B)
    w.check(now)
    expect(entries.get('/CHORUS/short')!.nextRepairAt).toBeGreaterThan(now + HOUR / 2)
    // a server connects (the partition healed)
    connected.peers = [A, B, S]
    w.check(now)
    expect(entries.get('/CHORUS/short')!.nextRepairAt).toBeLessThanOrEqual(now + 1_000)
    expect(entries.get('/CHORUS/fine')!.nextRepairAt).toBeGreaterThan(now + HOUR / 2)
  })

  it('a connected peer that identify shows as a server only later counts when it does', () => {
    pin('/CHORUS/short', 'degraded')
    clients = new Set([S])
    const connected = { peers: [] as string[] }
    const w = watch(connected)
    const now = Date.now()
    w.check(now)
    connected.peers = [S]
    w.check(now)
    w.check(now)
    expect(entries.get('/CHORUS/short')!.nextRepairAt).toBeGreaterThan(now + HOUR / 2)
    clients.delete(S)
    w.check(now)
    expect(entries.get('/CHORUS/short')!.nextRepairAt).toBeLessThanOrEqual(now + 1_000)
  })

  // the lab's partition: a NATed site cut off, its members reach each other directly, AutoNAT
  // takes them for public servers, and a write there is placed on them only; healed, they are
  // clients again and what they hold must move to the servers
  it('a connected server that turns client is a departure: the keys it holds are checked', () => {
    pin('/CHORUS/held-by-a', 'healthy')
    pin('/CHORUS/not-held', 'healthy')
    entries.store!.touchProvider('/CHORUS/held-by-a', A, Date.now())
    const connected = { peers: [A, S] }
    const w = watch(connected)
    const now = Date.now()
    w.check(now)
    w.check(now)
    expect(entries.get('/CHORUS/held-by-a')!.nextRepairAt).toBeGreaterThan(now + HOUR / 2)
    clients = new Set([A])
    w.check(now)
    expect(entries.get('/CHORUS/held-by-a')!.nextRepairAt).toBeLessThanOrEqual(now + 1_000)
    expect(entries.get('/CHORUS/not-held')!.nextRepairAt).toBeGreaterThan(now + HOUR / 2)
  })

  it('this node turning client checks every key it holds, spread over a few seconds', () => {
    for (let i = 0; i < 20; i++) pin(`/CHORUS/key-${i}`, 'healthy')
    const connected = { peers: [S] }
    const w = watch(connected)
    const now = Date.now()
    w.check(now)
    w.check(now)
    clients = new Set([SELF])
    w.check(now)
    const due = Array.from({ length: 20 }, (_, i) => entries.get(`/CHORUS/key-${i}`)!.nextRepairAt)
    for (const d of due) expect(d).toBeLessThanOrEqual(now + 5_000)
    expect(new Set(due).size, 'spread, not all at once').toBeGreaterThan(1)
    // turning server again changes nothing by itself
    clients = new Set()
    w.check(now + 10_000)
    expect(entries.get('/CHORUS/key-0')!.nextRepairAt).toBe(due[0])
  })
})
