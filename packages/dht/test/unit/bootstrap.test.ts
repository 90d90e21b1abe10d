import { silentLogger } from '@chorus/common'
import type { Multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { BootstrapError, DHTConfigError, NotStartedError } from '../../src/errors.js'
import {
  Bootstrap,
  type BootstrapComponents,
  bootstrapMultiaddr,
  checkMultiaddr
} from '../../src/libp2p/bootstrap.js'
import type { Lifetime } from '../../src/libp2p/lifetime.js'
import { startedRun } from './fakes.js'

const ID = '12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5'
const ADDR = `/ip4/127.0.0.1/tcp/4001/p2p/${ID}`

const runs: Lifetime[] = []
afterEach(() => {
  for (const r of runs.splice(0)) r.end()
})

function bootstrap(over: Partial<BootstrapComponents> = {}, peers = [ADDR], timeout = 300) {
  const run = startedRun()
  runs.push(run)
  const calls = { dialled: [] as string[], lookups: 0, announced: 0 }
  let table = 0
  const b = new Bootstrap(
    {
      dial: async (addr: Multiaddr) => {
        calls.dialled.push(addr.toString())
        table = 1
      },
      routingTableSize: () => table,
      selfLookup: async () => {
        calls.lookups++
      },
      connectedPeers: () => [],
      onBootstrapped: async () => {
        calls.announced++
      },
      run,
      scheduler: run,
      logger: silentLogger,
      ...over
    },
    {
      bootstrapPeers: peers,
      bootstrapTimeout: timeout,
      autoBootstrap: false,
      autoBootstrapInterval: 0,
      kadProtocol: '/T/kad/1.0.0'
    }
  )
  return { b, calls, run }
}

describe('bootstrap addresses', () => {
  it('a string that is no multiaddr is a DHTConfigError', () => {
    expect(() => checkMultiaddr('not an address')).toThrow(DHTConfigError)
    expect(() => checkMultiaddr(ADDR)).not.toThrow()
    expect(() => bootstrap({}, ['nope'])).toThrow(DHTConfigError)
  })

  it('a bootstrap address must name its peer (/p2p/<id>)', () => {
    expect(() => bootstrapMultiaddr('/ip4/127.0.0.1/tcp/4001')).toThrow(DHTConfigError)
    expect(bootstrapMultiaddr(ADDR).toString()).toBe(ADDR)
  })
})

describe('Bootstrap', () => {
  it('dials, waits for the routing table, looks up its neighbourhood, then announces', async () => {
    const { b, calls } = bootstrap()
    await b.bootstrap()
    expect(calls.dialled).toEqual([ADDR])
    expect(calls.lookups).toBe(1)
    await new Promise((r) => setTimeout(r, 10))
    expect(calls.announced).toBe(1)
  })

  it('concurrent calls share one bootstrap; peers given to a call are added', async () => {
    const { b, calls } = bootstrap()
    await Promise.all([b.bootstrap(), b.bootstrap()])
    expect(calls.dialled).toHaveLength(1)
    const other = `/ip4/127.0.0.1/tcp/4002/p2p/${ID}`
    await b.bootstrap({ peers: [other] })
    expect(b.peers).toEqual([ADDR, other])
  })

  it('no peer reached: BootstrapError naming the peers tried', async () => {
    const { b } = bootstrap({
      dial: async () => {
        throw new Error('connection refused')
      }
    })
    const err = await b.bootstrap().catch((e: unknown) => e)
    expect(BootstrapError.isInstance(err)).toBe(true)
    expect(err).toMatchObject({ code: 'DHT_BOOTSTRAP_FAILED', peers: [ADDR] })
  })

  it('an address without /p2p fails the bootstrap', async () => {
    const { b } = bootstrap()
    await expect(b.bootstrap({ peers: ['/ip4/127.0.0.1/tcp/9'] })).rejects.toBeInstanceOf(BootstrapError)
  })

  it('connected but no DHT server in the routing table within the timeout: BootstrapError', async () => {
    const { b } = bootstrap({ dial: async () => {}, routingTableSize: () => 0 })
    const err = await b.bootstrap().catch((e: unknown) => e)
    expect(BootstrapError.isInstance(err)).toBe(true)
    expect((err as Error).message).toContain('/T/kad/1.0.0')
  })

  it('nothing to do without peers; refused when not started', async () => {
    const { b, calls, run } = bootstrap({}, [])
    await b.bootstrap()
    expect(calls.dialled).toEqual([])
    run.end()
    await expect(b.bootstrap()).rejects.toSatisfy((e) => NotStartedError.isInstance(e))
  })
})
