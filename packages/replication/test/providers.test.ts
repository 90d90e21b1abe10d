/** Provider cache, liveness checks and push-target choice, with fakes of the narrow interfaces. */
import { silentLogger } from '@chorus/common'
import { sortByDistance } from '@chorus/dht'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { replicationDefaults } from '../src/config.js'
import { PeerLiveness } from '../src/liveness.js'
import { createCounters } from '../src/metrics.js'
import { decodeRequest, encodeResponse, refusal } from '../src/protocol.js'
import { ProviderCache } from '../src/providers.js'
import { Pusher } from '../src/pusher.js'
import { ReplicationStore } from '../src/store.js'

const SELF = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const PEERS = [
  '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq',
  '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo',
  '12D3KooWLBQaYXfZKvKd5M5Ao9hXCP4tJmGzwp8ReZTTuwF2JuS8',
  '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK',
  '12D3KooWHJk1W3f5d1n2jTRW7nS3Rdr3Tq6zRN7n6uB7rXWJX8FZ'
]
const KEY = '/CHORUS/test/providers'
const signal = new AbortController().signal

let store: ReplicationStore
beforeEach(() => {
  store = new ReplicationStore(undefined)
})
afterEach(() => store.close())

describe('PeerLiveness', () => {
  function liveness(messaging: { connected?: string[]; pingOk?: Set<string>; requestOk?: Set<string> }) {
    const calls: string[] = []
    const l = new PeerLiveness(
      {
        messaging: {
          getConnectedPeers: () => messaging.connected ?? [],
          ping: async (peer) => {
            calls.push(`ping:${peer}`)
            if (messaging.pingOk?.has(String(peer))) return 1
            throw new Error('ping failed')
          },
          request: async (peer, _protocol, body) => {
            calls.push(`request:${peer}`)
            expect(decodeRequest(body)).toEqual({ op: 'ping' })
            if (messaging.requestOk?.has(String(peer))) return encodeResponse({ ok: true })
            throw new Error('unreachable')
          }
        },
        log: silentLogger,
        store: () => store,
        signal: () => undefined
      },
      { protocol: '/CHORUS/replicate/1.0.0', livenessTTL: 60_000, requestTimeout: 1000 }
    )
    return { l, calls }
  }

  it('counts a connected peer as live without a probe', async () => {
    const { l, calls } = liveness({ connected: [PEERS[0]!] })
    expect(await l.isLive(PEERS[0]!, signal)).toBe(true)
    expect(calls).toEqual([])
    expect(store.getPeer(PEERS[0]!)?.quality).toBeCloseTo(0.65)
  })

  it('falls back to the protocol ping, and reuses only a failed check within the TTL', async () => {
    const { l, calls } = liveness({ requestOk: new Set([PEERS[1]!]) })
    expect(await l.isLive(PEERS[1]!, signal)).toBe(true)
    expect(await l.isLive(PEERS[1]!, signal)).toBe(true)
    // a positive result is checked again (the connection it was seen over may be gone)
    expect(calls.filter((c) => c.endsWith(PEERS[1]!))).toHaveLength(4)
    expect(await l.isLive(PEERS[2]!, signal)).toBe(false)
    expect(await l.isLive(PEERS[2]!, signal)).toBe(false)
    expect(calls.filter((c) => c.endsWith(PEERS[2]!))).toHaveLength(2)
    expect(l.knownDown(PEERS[2]!)).toBe(true)
    l.forget(PEERS[2]!)
    expect(l.knownDown(PEERS[2]!)).toBe(false)
  })
})

describe('ProviderCache', () => {
  function cache(init: { live: Set<string>; found?: string[]; holds?: boolean }) {
    const counters = createCounters()
    const pruned: number[] = []
    const c = new ProviderCache(
      {
        dht: { findProviders: async () => (init.found ?? []).map((id) => ({ id, multiaddrs: [] })) },
        peerId: SELF,
        store: () => store,
        holds: () => init.holds ?? false,
        liveness: { isLive: async (p) => init.live.has(p), prune: (age) => pruned.push(age) },
        counters,
        log: silentLogger
      },
      { ...replicationDefaults, maxProvidersPerKey: 3, replicationFactor: 2 }
    )
    return { c, counters, pruned }
  }

  it('writes a holder seen or proven again only once its record is a minute old', () => {
    const { c } = cache({ live: new Set() })
    const row = () => store.providers(KEY).find((r) => r.peer === PEERS[0])
    const digest = new Uint8Array(32).fill(1)
    c.nominate(KEY, [PEERS[0]!], 1_000)
    c.proven(KEY, PEERS[0]!, digest, 1_000)
    // seen and proven again within the minute (every sweep pass does): nothing written
    c.nominate(KEY, [PEERS[0]!], 30_000)
    c.proven(KEY, PEERS[0]!, digest, 30_000)
    expect(row()).toMatchObject({ lastSeen: 1_000, provenAt: 1_000 })
    // a minute later, or another value, is written
    c.touch(KEY, PEERS[0]!, 61_000)
    expect(row()).toMatchObject({ lastSeen: 61_000, provenAt: 1_000 })
    c.proven(KEY, PEERS[0]!, digest, 61_000)
    expect(row()).toMatchObject({ provenAt: 61_000 })
    const other = new Uint8Array(32).fill(2)
    c.proven(KEY, PEERS[0]!, other, 62_000)
    expect(row()).toMatchObject({ provenAt: 62_000 })
    expect(Buffer.from(row()!.proofDigest!).equals(other)).toBe(true)
  })

  it('merges known and found providers, live ones first, each group closest first, self when holding', async () => {
    const now = Date.now()
    store.touchProvider(KEY, PEERS[0]!, now)
    store.touchProvider(KEY, PEERS[1]!, now)
    // seen longer ago than the TTL: not a provider any more
    store.touchProvider(KEY, PEERS[4]!, now - replicationDefaults.providerTTL - 1)
    const { c, counters } = cache({
      live: new Set([PEERS[1]!, PEERS[2]!]),
      found: [PEERS[2]!, PEERS[3]!],
      holds: true
    })
    const local = await c.lookup(KEY, signal, false)
    expect(counters.providerLookups).toBe(0)
    expect(local.map((p) => p.peerId).sort()).toEqual([SELF, PEERS[0]!, PEERS[1]!].sort())
    const all = await c.lookup(KEY, signal, true)
    expect(counters.providerLookups).toBe(1)
    const live = all.filter((p) => p.live).map((p) => p.peerId)
    // without a digest no remote provider is proven: this node (it holds the key) comes first
    expect(live).toEqual([SELF, ...sortByDistance(KEY, [PEERS[1]!, PEERS[2]!])])
    expect(all.filter((p) => p.proven).map((p) => p.peerId)).toEqual([SELF])
    // at most max(maxProvidersPerKey, replicationFactor) = 3: the live ones fill the list
    expect(all).toHaveLength(3)
    expect(all.every((p) => p.distance > 0 && p.distance <= 256 && p.xorDistance.length === 64)).toBe(true)
    expect(all.find((p) => p.peerId === SELF)).toMatchObject({ quality: 1, live: true })
    // a found provider is remembered
    expect(store.providers(KEY).map((r) => r.peer)).toContain(PEERS[3])
  })

  it('leaves this node out when it does not hold the key', async () => {
    store.touchProvider(KEY, SELF, Date.now())
    const { c } = cache({ live: new Set(), holds: false })
    expect((await c.lookup(KEY, signal, false)).map((p) => p.peerId)).toEqual([])
  })

  it('takes named holders as candidates, at most twice maxProvidersPerKey new ones per key', () => {
    const { c } = cache({ live: new Set() })
    const named = Array.from({ length: 10 }, (_, i) => `peer-${i}`)
    c.nominate(KEY, named.slice(0, 4), 1000)
    c.nominate(KEY, named, 70_000)
    const rows = store.providers(KEY)
    expect(rows).toHaveLength(6)
    // known ones are refreshed, new ones beyond the cap are not added
    expect(rows.filter((r) => r.lastSeen === 70_000)).toHaveLength(6)
    expect(rows.every((r) => !r.announced && r.proofDigest == null)).toBe(true)
  })

  it('cleanup drops expired entries and caps each key', () => {
    const now = Date.now()
    store.touchProvider(KEY, PEERS[0]!, now - replicationDefaults.providerTTL - 10)
    for (const p of PEERS.slice(1)) store.touchProvider(KEY, p, now)
    const { c, counters, pruned } = cache({ live: new Set() })
    c.cleanup()
    expect(store.providers(KEY)).toHaveLength(3)
    expect(store.providers(KEY).map((r) => r.peer)).not.toContain(PEERS[0])
    expect(pruned).toEqual([replicationDefaults.providerTTL])
    expect(counters.lastCleanupTime).toBeInstanceOf(Date)
  })
})

describe('Pusher: repair targets', () => {
  function pusher(init: {
    connected: string[]
    down?: string[]
    refuse?: string[]
    closest?: string[]
    busy?: number
    /** Peers that are DHT clients (behind NAT). */
    clients?: string[]
  }) {
    const requests: string[] = []
    let busy = init.busy ?? 0
    const noted: Array<[string, boolean]> = []
    let lookups = 0
    const p = new Pusher(
      {
        messaging: {
          peerId: SELF,
          request: async (peer) => {
            requests.push(String(peer))
            if (init.refuse?.includes(String(peer))) throw new Error('unreachable')
            if (busy-- > 0) return encodeResponse(refusal('BUSY'))
            return encodeResponse({ ok: true })
          }
        },
        dht: {
          getClosestPeers: async () => {
            lookups++
            return (init.closest ?? []).map((id) => ({ id, multiaddrs: [] }))
          }
        },
        liveness: {
          connected: () => new Set(init.connected),
          knownDown: (peer) => init.down?.includes(peer) ?? false,
          note: (peer, ok) => noted.push([peer, ok])
        },
        isServer: (peer) => !(init.clients ?? []).includes(peer),
        recordHolder: () => {},
        penalise: () => {},
        emitReplicated: () => {},
        counters: createCounters(),
        log: silentLogger
      },
      { protocol: '/CHORUS/replicate/1.0.0', requestTimeout: 1000 }
    )
    return { p, requests, noted, lookups: () => lookups }
  }
  const record = { key: KEY, priority: 1 }
  const value = new Uint8Array([1, 2, 3])

  it('pushes to the connected non-holders closest to the key, without a DHT query', async () => {
    const { p, requests, lookups } = pusher({ connected: [...PEERS, SELF] })
    const holders = new Set([PEERS[0]!])
    const pushed = await p.pushToClosest(record, value, holders, 2, signal)
    const expected = sortByDistance(KEY, PEERS.slice(1)).slice(0, 2)
    expect(pushed).toEqual(expected)
    expect(requests.sort()).toEqual([...expected].sort())
    expect(lookups()).toBe(0)
  })

  it('tries peers known to be down last and replaces a failed push with the next candidate', async () => {
    const ranked = sortByDistance(KEY, PEERS)
    const { p, requests, noted } = pusher({ connected: PEERS, down: [ranked[0]!], refuse: [ranked[1]!] })
    const pushed = await p.pushToClosest(record, value, new Set(), 2, signal)
    expect(pushed).toEqual([ranked[2], ranked[3]])
    expect(requests).toEqual([ranked[1], ranked[2], ranked[3]])
    expect(noted).toContainEqual([ranked[1], false])
  })

  it('waits out a BUSY answer and sends the push again; gives up after a few', async () => {
    const { p, requests } = pusher({ connected: [PEERS[0]!], busy: 2 })
    const counters = (p as unknown as { components: { counters: ReturnType<typeof createCounters> } })
      .components.counters
    await p.push(PEERS[0]!, record, value, signal)
    expect(requests).toEqual([PEERS[0], PEERS[0], PEERS[0]])
    expect(counters.failedReplications).toBe(0)
    expect(counters.successfulReplications).toBe(1)
    const { p: never } = pusher({ connected: [PEERS[0]!], busy: 100 })
    await expect(never.push(PEERS[0]!, record, value, signal)).rejects.toMatchObject({ refusal: 'BUSY' })
  }, 15_000)

  it('asks the DHT for the closest peers once when too few are connected', async () => {
    const { p, lookups } = pusher({ connected: [PEERS[0]!], closest: [PEERS[1]!, PEERS[2]!, SELF] })
    const pushed = await p.pushToClosest(record, value, new Set(), 3, signal)
    expect(pushed.sort()).toEqual(PEERS.slice(0, 3).sort())
    expect(lookups()).toBe(1)
    // none left to try: stops with what it reached
    const { p: p2, lookups: l2 } = pusher({ connected: [], closest: [] })
    expect(await p2.pushToClosest(record, value, new Set(), 2, signal)).toEqual([])
    expect(l2()).toBe(1)
  })

  it('never pushes to a DHT client, connected or found by the DHT: servers only', async () => {
    const ranked = sortByDistance(KEY, PEERS)
    // the two closest connected peers are clients behind NAT; so is one the DHT names
    const clients = [ranked[0]!, ranked[1]!, ranked[4]!]
    const { p, requests } = pusher({
      connected: [ranked[0]!, ranked[1]!, ranked[2]!],
      closest: [ranked[3]!, ranked[4]!],
      clients
    })
    const pushed = await p.pushToClosest(record, value, new Set(), 3, signal)
    expect(pushed.sort()).toEqual([ranked[2], ranked[3]].sort())
    expect(requests.some((r) => clients.includes(r))).toBe(false)
  })
})
