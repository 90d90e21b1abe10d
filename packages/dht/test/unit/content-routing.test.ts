import { silentLogger } from '@chorus/common'
import { describe, expect, it } from 'vitest'
import { ContentRouting, type RoutingQueries } from '../../src/libp2p/content-routing.js'
import { keyToCid } from '../../src/libp2p/keys.js'
import { events, peer, startedRun } from './fakes.js'

const provider = (id: string, ...addrs: string[]) => ({ id: peer(id), multiaddrs: addrs.map(peer) })

function routing(kad: Partial<RoutingQueries>) {
  const run = startedRun()
  return new ContentRouting(
    {
      kad: {
        provide: kad.provide ?? (() => events()),
        findProviders: kad.findProviders ?? (() => events()),
        getClosestPeers: kad.getClosestPeers ?? (() => events())
      },
      self: () => ({ id: 'me', multiaddrs: ['/ip4/127.0.0.1/tcp/1'] }),
      run,
      logger: silentLogger
    },
    { queryTimeout: 2_000 }
  )
}

describe('ContentRouting', () => {
  it('provides under keyToCid(key) and lists itself among the providers', async () => {
    const cids: string[] = []
    const r = routing({
      provide: (cid) => {
        cids.push(cid.toString())
        return events()
      },
      findProviders: () => events({ name: 'PROVIDER', providers: [provider('p1', '/a')] })
    })
    await r.provide('CHORUS:role:x')
    expect(cids).toEqual([(await keyToCid('CHORUS:role:x')).toString()])
    expect(await r.findProviders('CHORUS:role:x')).toEqual([
      { id: 'me', multiaddrs: ['/ip4/127.0.0.1/tcp/1'] },
      { id: 'p1', multiaddrs: ['/a'] }
    ])
  })

  it('deduplicates providers, fills in missing addresses and stops at the limit', async () => {
    const r = routing({
      findProviders: () =>
        events(
          { name: 'PROVIDER', providers: [provider('p1'), provider('p2', '/b', '/b')] },
          { name: 'PEER_RESPONSE' },
          { name: 'PROVIDER', providers: [provider('p1', '/a'), provider('p3'), provider('p4')] }
        )
    })
    expect(await r.findProviders('k', { limit: 3 })).toEqual([
      { id: 'p1', multiaddrs: ['/a'] },
      { id: 'p2', multiaddrs: ['/b'] },
      { id: 'p3', multiaddrs: [] }
    ])
  })

  it('closest peers are the FINAL_PEER answers of the query, up to the limit', async () => {
    const r = routing({
      getClosestPeers: () =>
        events(
          { name: 'PEER_RESPONSE' },
          { name: 'FINAL_PEER', peer: provider('p1', '/a') },
          { name: 'FINAL_PEER', peer: provider('p2') },
          { name: 'FINAL_PEER', peer: provider('p3') }
        )
    })
    expect(await r.getClosestPeers('/CHORUS/k', { limit: 2 })).toEqual([
      { id: 'p1', multiaddrs: ['/a'] },
      { id: 'p2', multiaddrs: [] }
    ])
  })

  it('a query that fails part-way answers with what it found', async () => {
    const r = routing({
      findProviders: async function* () {
        yield* events({ name: 'PROVIDER', providers: [provider('p1')] })
        throw new Error('query aborted')
      }
    })
    expect(await r.findProviders('k')).toEqual([{ id: 'p1', multiaddrs: [] }])
  })
})
