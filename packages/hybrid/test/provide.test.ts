import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, connect, hybridNode, peerNode, waitFor } from './helpers.js'

const cleanup = new Cleanup()
afterEach(() => cleanup.run())

describe('HybridDHT provide over real libp2p nodes', () => {
  it('a provide no peer acknowledged is journaled, and replayed to the network once a peer is there', async () => {
    const { hybrid, primary } = await hybridNode(cleanup, cleanup.dir('alone'))
    const key = '/CHORUS/ucxl/provided-alone'
    // alone: the network rejects the provide (no peer acknowledged it); the hybrid journals it
    expect(await hybrid.provide(key)).toEqual({ key, peers: [] })
    expect(hybrid.pendingWrites()).toBe(1)
    expect(hybrid.getMetrics().journal).toMatchObject({ appended: 1, pending: 1, replayed: 0 })
    expect(hybrid.getMetrics().backends.real.byOperation.provide).toMatchObject({ operations: 1, errors: 1 })
    // recorded locally all the same
    expect((await hybrid.findProviders(key)).map((p) => p.id)).toContain(primary.peerId)

    const peer = await peerNode(cleanup)
    await connect(peer, primary)
    await waitFor('the probe to pass', () => hybrid.probe())
    await waitFor('the journaled provide to reach the network', () => hybrid.pendingWrites() === 0, 30_000)
    expect(hybrid.getMetrics().journal).toMatchObject({ pending: 0, replayed: 1, dropped: 0 })
    // the peer holds the provider record: it answers from its own store
    await waitFor('the peer to list the provider', async () =>
      (await peer.findProviders(key)).some((p) => p.id === primary.peerId)
    )
  }, 90_000)

  it('a provide peers acknowledged reports them and journals nothing', async () => {
    const { hybrid, primary } = await hybridNode(cleanup, cleanup.dir('joined'))
    const peers = [await peerNode(cleanup), await peerNode(cleanup)]
    for (const p of peers) await connect(p, primary)
    // both in the primary's routing table, else its provide may not reach the second yet
    await waitFor('both peers in the routing table', () => primary.getDHTSize() >= 2, 20_000)
    const result = await hybrid.provide('/CHORUS/ucxl/provided-joined')
    expect(result.peers.sort()).toEqual(peers.map((p) => p.peerId).sort())
    expect(hybrid.pendingWrites()).toBe(0)
    expect(hybrid.getMetrics().journal.appended).toBe(0)
  }, 90_000)
})
