import { silentLogger } from '@chorus/common'
import { describe, expect, it } from 'vitest'
import { NoPeersAcknowledgedError } from '../../src/errors.js'
import { ContentRouting, type RoutingQueries } from '../../src/libp2p/content-routing.js'
import { keyToCid } from '../../src/libp2p/keys.js'
import { events, peer, startedRun } from './fakes.js'

const provider = (id: string, ...addrs: string[]) => ({ id: peer(id), multiaddrs: addrs.map(peer) })

/** kad-dht's event for an ADD_PROVIDER written to `id` (delivered; the protocol has no answer). */
const delivered = (id: string) => ({ name: 'PEER_RESPONSE', messageName: 'ADD_PROVIDER', from: peer(id) })

function routing(kad: Partial<RoutingQueries>, refused: string[] = []) {
  const run = startedRun()
  return new ContentRouting(
    {
      kad: {
        provide: kad.provide ?? (() => events()),
        findProviders: kad.findProviders ?? (() => events()),
        getClosestPeers: kad.getClosestPeers ?? (() => events()),
        ...(kad.providersAt != null ? { providersAt: kad.providersAt } : {})
      },
      self: () => ({ id: 'me', multiaddrs: ['/ip4/127.0.0.1/tcp/1'] }),
      refused: (p) => refused.includes(p),
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
        return events(delivered('p1'))
      },
      providersAt: async () => ['me'],
      findProviders: () => events({ name: 'PROVIDER', providers: [provider('p1', '/a')] })
    })
    expect(await r.provide('CHORUS:role:x')).toEqual({ key: 'CHORUS:role:x', peers: ['p1'] })
    expect(cids).toEqual([(await keyToCid('CHORUS:role:x')).toString()])
    expect(await r.findProviders('CHORUS:role:x')).toEqual([
      { id: 'me', multiaddrs: ['/ip4/127.0.0.1/tcp/1'] },
      { id: 'p1', multiaddrs: ['/a'] }
    ])
  })

  it('a provide reports only the peers that list this node when asked back', async () => {
    const asked: string[] = []
    const r = routing(
      {
        provide: () =>
          events({ name: 'FINAL_PEER' }, delivered('p1'), delivered('p2'), delivered('p3'), delivered('bad')),
        providersAt: async (p) => {
          asked.push(p.toString())
          if (p.toString() === 'p2') return ['someone-else']
          if (p.toString() === 'p3') throw new Error('stream reset')
          return ['me']
        }
      },
      ['bad']
    )
    expect(await r.provide('/CHORUS/k')).toEqual({ key: '/CHORUS/k', peers: ['p1'] })
    // p2 is asked again (its handler may not have run yet), p3 once (it did not answer), bad never
    expect(asked.filter((p) => p === 'p2')).toHaveLength(3)
    expect(asked.filter((p) => p === 'p3')).toHaveLength(1)
    expect(asked).not.toContain('bad')
  })

  it('a peer whose ADD_PROVIDER handler had not run yet is confirmed on a later ask', async () => {
    let asks = 0
    const r = routing({
      provide: () => events(delivered('p1')),
      providersAt: async () => (++asks === 1 ? [] : ['me'])
    })
    expect((await r.provide('/CHORUS/k')).peers).toEqual(['p1'])
    expect(asks).toBe(2)
  })

  it('a provide no peer acknowledged rejects with NoPeersAcknowledgedError, and this node still lists itself', async () => {
    const alone = routing({ provide: () => events() })
    const err = await alone.provide('/CHORUS/alone').catch((e: unknown) => e)
    expect(NoPeersAcknowledgedError.isInstance(err)).toBe(true)
    expect(err).toMatchObject({ code: 'DHT_NO_ACKS', operation: 'provide', key: '/CHORUS/alone' })
    expect((await alone.findProviders('/CHORUS/alone')).map((p) => p.id)).toEqual(['me'])

    const unconfirmed = routing({ provide: () => events(delivered('p1')), providersAt: async () => [] })
    await expect(unconfirmed.provide('/CHORUS/k')).rejects.toBeInstanceOf(NoPeersAcknowledgedError)
  })

  it('without a way to ask back, a provide counts the peers its record was delivered to', async () => {
    const r = routing({ provide: () => events(delivered('p1'), delivered('p2')) })
    expect((await r.provide('/CHORUS/k')).peers).toEqual(['p1', 'p2'])
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
