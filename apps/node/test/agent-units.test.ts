// Unit tests of the agent's parts, without a network: views, lifecycle, join, hand-off.
import { silentLogger } from '@chorus/common'
import { PEER_ANNOUNCE_KEY } from '@chorus/dht'
import { dhtKey, parseAddress } from '@chorus/ucxl'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  type HandoffComponents,
  handOff,
  reconcile,
  reconcileLater,
  recordKeys
} from '../src/agent/handoff.js'
import { indexOnce } from '../src/agent/index-once.js'
import { NetworkJoin, type NetworkJoinComponents } from '../src/agent/join.js'
import { AgentLifecycle } from '../src/agent/lifecycle.js'
import {
  type hybridView,
  metricsView,
  peersView,
  plain,
  readinessView,
  replicationSummaryView,
  type StatusInput,
  statusView
} from '../src/agent/views.js'
import { AgentError } from '../src/errors.js'

const ADDRESS = 'ucxl://agent001:backend_developer@project123:task456/*^/decision'

const fakeHybrid = (active: 'real' | 'mock' = 'real', realStatus = 'healthy') =>
  ({
    getMode: () => 'auto',
    getActiveBackend: () => active,
    pendingWrites: () => 2,
    getBackendHealth: () => ({ real: { status: realStatus }, mock: { status: 'healthy' } }),
    getMetrics: () => ({ failovers: 1 })
  }) as unknown as Parameters<typeof hybridView>[0]

const fakeDHT = (connected: string[]) =>
  ({
    getConnectedPeers: () => connected,
    isBootstrapped: () => connected.length > 0,
    getKnownPeers: () => [
      { id: 'p1', role: 'qa_engineer', capabilities: ['x'], agentVersion: 'v', multiaddrs: ['/m'] }
    ],
    // what admission proved of p1's certificate
    admittedPeer: (id: string) =>
      id === 'p1' ? { agent: 'qa01', roles: ['qa_engineer'], notAfter: Number.MAX_SAFE_INTEGER } : undefined
  }) as unknown as NonNullable<StatusInput['dht']> & Parameters<typeof peersView>[0]

describe('indexOnce', () => {
  it('indexes a value pinned under two keys once, a failed one again, and forgets the oldest past its memory', async () => {
    const indexed: number[] = []
    let fail = true
    const index = indexOnce(async (v) => {
      if (v[0] === 9 && fail) {
        fail = false
        throw new Error('index busy')
      }
      indexed.push(v[0]!)
    }, 2)
    const v = (n: number) => new Uint8Array([n, 1, 2])
    await index(v(1))
    await index(v(1))
    expect(indexed).toEqual([1])
    await expect(index(v(9))).rejects.toThrow('index busy')
    await index(v(9))
    expect(indexed).toEqual([1, 9])
    await index(v(2))
    await index(v(1))
    expect(indexed).toEqual([1, 9, 2, 1])
  })
})

describe('views', () => {
  it('plain() turns dates into strings and bigints into numbers', () => {
    expect(plain({ at: new Date(0), n: 5n })).toEqual({ at: '1970-01-01T00:00:00.000Z', n: 5 })
  })

  it('status: uptime, network and each subsystem', () => {
    const view = statusView({
      agentId: 'a',
      role: 'backend_developer',
      capabilities: ['ucxl-storage'],
      peerId: 'p0',
      multiaddrs: [],
      ready: true,
      startedAt: 1_000,
      now: 11_400,
      heldRoles: ['backend_developer'],
      network: { joined: true, bootstrapPeers: ['/b'], bootstrapSource: 'config', dhtStats: { size: 1 } },
      dht: fakeDHT(['p1', 'p2']),
      hybrid: fakeHybrid(),
      storage: { getMetrics: () => ({ stored: 3 }) } as never,
      replication: { getMetrics: () => ({ managed: 4, at: new Date(0) }) } as never
    })
    expect(view).toMatchObject({
      uptimeSeconds: 10,
      network: { joined: true, bootstrapped: true, connectedPeers: 2, dht: { size: 1 } },
      hybrid: { mode: 'auto', activeBackend: 'real', pendingWrites: 2 },
      storage: { stored: 3 },
      replication: { managed: 4, at: '1970-01-01T00:00:00.000Z' }
    })
  })

  it('status before start: no uptime, no components', () => {
    const view = statusView({
      agentId: '',
      role: 'r',
      capabilities: [],
      peerId: '',
      multiaddrs: [],
      ready: false,
      startedAt: 0,
      now: 5_000,
      heldRoles: [],
      network: { joined: false, bootstrapPeers: [], bootstrapSource: 'config', dhtStats: {} }
    })
    expect(view).toMatchObject({ uptimeSeconds: 0, network: { bootstrapped: false, connectedPeers: 0 } })
    expect(view.hybrid).toBeUndefined()
  })

  it('readiness and peers', () => {
    expect(readinessView({ started: true, stopping: false, joined: false, dht: fakeDHT(['p1']) })).toEqual({
      started: true,
      stopping: false,
      joined: false,
      connectedPeers: 1
    })
    expect(peersView(undefined)).toEqual([])
    expect(peersView(fakeDHT(['p1', 'p9']))).toEqual([
      {
        id: 'p1',
        agent: 'qa01',
        certifiedRoles: ['qa_engineer'],
        role: 'qa_engineer',
        capabilities: ['x'],
        agentVersion: 'v',
        multiaddrs: ['/m']
      },
      {
        id: 'p9',
        agent: '',
        certifiedRoles: [],
        role: '',
        capabilities: [],
        agentVersion: '',
        multiaddrs: []
      }
    ])
  })

  it('replication summary counts the managed keys', () => {
    expect(replicationSummaryView({ getMetrics: () => ({ a: 1, totalKeys: 2 }) } as never)).toEqual({
      metrics: { a: 1, totalKeys: 2 },
      keys: 2
    })
  })

  it('metrics: numeric flags of the hybrid, nothing more from a component that throws', () => {
    const m = metricsView({ dhtStats: { size: 1 }, hybrid: fakeHybrid('mock', 'failed') })
    expect(m.hybrid).toEqual({ failovers: 1, realActive: false, realFailed: true, mockFailed: false })
    const stopping = metricsView({
      dhtStats: {},
      storage: {
        getMetrics: () => {
          throw new Error('stopped')
        }
      }
    })
    expect(stopping).toEqual({ dht: {} })
  })
})

describe('AgentLifecycle', () => {
  it('refuses work before start and after stop began', async () => {
    const l = new AgentLifecycle({ logger: silentLogger })
    expect(() => l.assertServing()).toThrow(expect.objectContaining({ code: 'AGENT_NOT_READY' }))
    l.markStarted()
    expect(l.isReady()).toBe(true)
    expect(l.startedAt).toBeGreaterThan(0)
    const stopped = l.stop(() => [])
    expect(l.isReady()).toBe(false)
    try {
      l.assertServing()
      expect.unreachable()
    } catch (err) {
      expect(AgentError.isInstance(err)).toBe(true)
      expect((err as AgentError).code).toBe('AGENT_SHUTTING_DOWN')
    }
    await stopped
    expect(l.started).toBe(false)
  })

  it('lets writes finish, aborts the lifetime, then runs the stop steps in order, once', async () => {
    const l = new AgentLifecycle({ logger: silentLogger })
    l.markStarted()
    const order: string[] = []
    let release!: () => void
    const write = l.write(
      new Promise<string>((r) => {
        release = () => r('written')
      })
    )
    let abortedAtStep = false
    const steps = () => [
      {
        name: 'one',
        run: async () => {
          abortedAtStep = l.signal.aborted
          order.push('one')
        }
      },
      {
        name: 'two',
        run: async () => {
          order.push('two')
          throw new Error('a failing step does not stop the others')
        }
      },
      { name: 'three', run: async () => void order.push('three') }
    ]
    const a = l.stop(steps)
    const b = l.stop(steps)
    expect(a).toBe(b)
    await new Promise((r) => setTimeout(r, 20))
    expect(l.signal.aborted).toBe(false)
    release()
    expect(await write).toBe('written')
    await a
    expect(abortedAtStep).toBe(true)
    expect(order).toEqual(['one', 'two', 'three'])
  })

  it('waits for background tasks at most the grace period; failures are logged, not thrown', async () => {
    const warned: unknown[] = []
    const l = new AgentLifecycle({
      logger: { ...silentLogger, warn: (o: unknown) => void warned.push(o) },
      backgroundGrace: 50
    })
    l.markStarted()
    l.spawn(Promise.reject(new Error('boom')))
    l.spawn(new Promise(() => {})) // never settles
    const t = Date.now()
    await l.stop(() => [])
    expect(Date.now() - t).toBeLessThan(2_000)
    expect(warned).toHaveLength(1)
  })
})

function fakeJoinDHT(connected: string[] = ['p1']) {
  const calls: string[] = []
  const dht = {
    peerId: 'self',
    bootstrap: async ({ peers }: { peers: string[] }) => void calls.push(`bootstrap ${peers.join(',')}`),
    getDHTSize: () => 1,
    registerPeer: () => void calls.push('register'),
    getConnectedPeers: () => connected,
    provide: async (key: string) => void calls.push(`provide ${key}`),
    announceRole: async (role: string) => void calls.push(`role ${role}`),
    announceCapability: async (cap: string) => void calls.push(`capability ${cap}`)
  }
  return { dht: dht as unknown as NetworkJoinComponents['dht'], calls }
}

function fakeLifecycle() {
  const spawned: Promise<unknown>[] = []
  const timers: number[] = []
  const controller = new AbortController()
  return {
    lifecycle: {
      signal: controller.signal,
      stopping: false,
      every: (ms: number) => void timers.push(ms),
      spawn: (p: Promise<unknown>) => void spawned.push(p)
    },
    spawned,
    timers,
    controller
  }
}

describe('NetworkJoin', () => {
  const init = {
    role: 'backend_developer',
    capabilities: ['ucxl-storage'],
    joinStagger: 0,
    discoveryInterval: 60_000,
    reprovideInterval: 12 * 3600_000,
    bootstrap: { peers: ['/a'], source: 'config' as const }
  }

  it('bootstraps, announces role, capabilities and the discovery key, then schedules re-announcements', async () => {
    const { dht, calls } = fakeJoinDHT()
    const f = fakeLifecycle()
    const join = new NetworkJoin({ dht, lifecycle: f.lifecycle, logger: silentLogger }, init)
    await join.run()
    expect(calls).toEqual([
      'bootstrap /a',
      'register',
      `provide ${PEER_ANNOUNCE_KEY}`,
      'role backend_developer',
      'capability ucxl-storage'
    ])
    expect(join.joined).toBe(true)
    expect(join.announced).toBe(true)
    expect(f.timers).toEqual([10_000, 3600_000])
  })

  it('does not announce without a connected peer (retried later)', async () => {
    const { dht, calls } = fakeJoinDHT([])
    const f = fakeLifecycle()
    const join = new NetworkJoin(
      { dht, lifecycle: f.lifecycle, logger: silentLogger },
      { ...init, bootstrap: { peers: [], source: 'config' } }
    )
    await join.run()
    expect(calls).toEqual(['register'])
    expect(join.announced).toBe(false)
  })

  it('staggers the join within joinStagger and stops waiting on shutdown', async () => {
    const { dht, calls } = fakeJoinDHT()
    const f = fakeLifecycle()
    const join = new NetworkJoin(
      { dht, lifecycle: f.lifecycle, logger: silentLogger },
      { ...init, joinStagger: 60_000, random: () => 0.99 }
    )
    const running = join.run()
    f.controller.abort()
    await running
    expect(calls).toEqual([])
  })

  it('reload dials only the added peers', async () => {
    const { dht, calls } = fakeJoinDHT()
    const f = fakeLifecycle()
    const join = new NetworkJoin({ dht, lifecycle: f.lifecycle, logger: silentLogger }, init)
    join.reload({ peers: ['/a', '/b'], source: 'assignment' }, true)
    await Promise.all(f.spawned)
    expect(calls[0]).toBe('bootstrap /b')
    expect(join.bootstrapPeers).toEqual(['/a', '/b'])
    expect(join.bootstrapSource).toBe('assignment')
    join.reload({ peers: ['/a'], source: 'config' }, true)
    expect(f.spawned).toHaveLength(1)
  })
})

describe('join stagger on a reload (assignment file, SIGHUP)', () => {
  const init = {
    role: 'backend_developer',
    capabilities: ['ucxl-storage'],
    joinStagger: 10_000,
    discoveryInterval: 60_000,
    reprovideInterval: 12 * 3600_000,
    bootstrap: { peers: [], source: 'config' as const }
  }
  afterEach(() => {
    vi.useRealTimers()
  })

  it('waits its own random delay before dialling the peers it was handed', async () => {
    vi.useFakeTimers({ now: 0 })
    const { dht, calls } = fakeJoinDHT()
    const f = fakeLifecycle()
    const join = new NetworkJoin(
      { dht, lifecycle: f.lifecycle, logger: silentLogger },
      { ...init, random: () => 0.5 }
    )
    join.reload({ peers: ['/a'], source: 'assignment' }, true)
    await vi.advanceTimersByTimeAsync(4_999)
    expect(calls).toEqual([])
    await vi.advanceTimersByTimeAsync(2)
    await Promise.all(f.spawned)
    expect(calls[0]).toBe('bootstrap /a')
    expect(join.lastJoin).toEqual({ delayMs: 5_000, at: 5_000, peers: 1 })
  })

  it('a team handed its peers at once spreads its joins over the window', async () => {
    vi.useFakeTimers({ now: 0 })
    const joins = Array.from({ length: 20 }, () => {
      const { dht } = fakeJoinDHT()
      const f = fakeLifecycle()
      return { join: new NetworkJoin({ dht, lifecycle: f.lifecycle, logger: silentLogger }, init), f }
    })
    for (const { join } of joins) join.reload({ peers: ['/a'], source: 'assignment' }, true)
    await vi.advanceTimersByTimeAsync(10_001)
    await Promise.all(joins.flatMap(({ f }) => f.spawned))
    const times = joins.map(({ join }) => join.lastJoin?.at ?? -1).sort((a, b) => a - b)
    expect(times[0]).toBeGreaterThanOrEqual(0)
    // uniform over 10 s: 20 joins span well over half the window, no second holds half of them
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThan(5_000)
    const perSecond = new Map<number, number>()
    for (const t of times) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1)
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(10)
  })
})

describe('hand-off to replication', () => {
  function components(managed: string[] = [], stored: unknown[] = []) {
    const added: Array<{ key: string; priority: number }> = []
    const f = fakeLifecycle()
    const c: HandoffComponents = {
      replication: {
        addContent: async (key: string, _size: number, priority: number) =>
          void added.push({ key, priority }),
        hasContent: (key: string) => managed.includes(key)
      } as unknown as HandoffComponents['replication'],
      storage: { searchContent: async () => stored } as unknown as HandoffComponents['storage'],
      lifecycle: f.lifecycle,
      logger: silentLogger
    }
    return { c, added, f }
  }

  it('the record keys of a version are its version key and the head of its address', () => {
    const head = dhtKey(parseAddress(ADDRESS))
    expect(recordKeys(ADDRESS, 3)).toEqual([`${head}/v/3`, head])
  })

  it('hands both records over, decisions first', async () => {
    const { c, added, f } = components()
    handOff(c, { baseAddress: ADDRESS, version: 1, size: 10, contentType: 'decision' })
    handOff(c, { baseAddress: ADDRESS, version: 2, size: 10, contentType: 'file' })
    await Promise.all(f.spawned)
    const head = dhtKey(parseAddress(ADDRESS))
    expect(added).toEqual([
      { key: `${head}/v/1`, priority: 2 },
      { key: head, priority: 2 },
      { key: `${head}/v/2`, priority: 1 },
      { key: head, priority: 1 }
    ])
  })

  it('reconcile hands back what this node wrote and replication does not manage', async () => {
    const head = dhtKey(parseAddress(ADDRESS))
    const mine = { baseAddress: ADDRESS, version: 2, size: 1, contentType: 'decision', author: 'me' }
    const managedOne = { ...mine, version: 1 }
    const theirs = { ...mine, version: 3, author: 'someone' }
    const { c, added, f } = components([head, `${head}/v/1`], [mine, managedOne, theirs])
    expect(await reconcile(c, 'me')).toBe(1)
    await Promise.all(f.spawned)
    expect(added.map((a) => a.key)).toEqual([`${head}/v/2`, head])
  })

  it('reconciles after a delay, and not at all when stopped first', async () => {
    const mine = { baseAddress: ADDRESS, version: 1, size: 1, contentType: 'decision', author: 'me' }
    const { c, added, f } = components([], [mine])
    const stop = new AbortController()
    const stopped = reconcileLater(c, 'me', stop.signal, 60_000)
    stop.abort()
    expect(await stopped).toBe(0)
    const later = reconcileLater(c, 'me', new AbortController().signal, 50)
    expect(added).toEqual([])
    expect(await later).toBe(1)
    await Promise.all(f.spawned)
    expect(added).toHaveLength(2)
  })
})
