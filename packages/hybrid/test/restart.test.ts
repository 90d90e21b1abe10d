import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, connect, dec, enc, hybridNode, peerNode, pool, waitFor } from './helpers.js'

const cleanup = new Cleanup()
afterEach(() => cleanup.run())

const COUNT = 60
const key = (i: number): string => `/CHORUS/ucxl/restart-${i}`
const value = (i: number): string => `journaled before the restart #${i}`

describe('HybridDHT restarted while failed over', () => {
  it('reloads its journal after the restart and still delivers every write', async () => {
    const dir = cleanup.dir('restart')
    const peerDir = cleanup.dir('restart-peer')
    const first = await hybridNode(cleanup, dir)
    const peer = await peerNode(cleanup, { dataDir: peerDir })
    await connect(peer, first.primary)
    await waitFor('the probe to pass', () => first.hybrid.probe())
    const peerId = first.primary.peerId

    // The network goes away; the node keeps writing and fails over.
    await peer.close()
    await pool(
      Array.from({ length: COUNT }, (_, i) => i),
      6,
      (i) => first.hybrid.putValue(key(i), enc.encode(value(i)))
    )
    await waitFor('fail-over', () => first.hybrid.getActiveBackend() === 'mock', 30_000)
    expect(first.hybrid.pendingWrites()).toBe(COUNT)

    // The node restarts on the same data directory while still cut off.
    await first.close()
    const second = await hybridNode(cleanup, dir)
    expect(second.primary.peerId).toBe(peerId)
    expect(second.hybrid.pendingWrites()).toBe(COUNT)
    for (let i = 0; i < COUNT; i++) expect(dec.decode(await second.hybrid.getValue(key(i)))).toBe(value(i))
    await waitFor(
      'the lone node to fail over again',
      () => second.hybrid.getActiveBackend() === 'mock',
      30_000
    )
    expect(second.hybrid.pendingWrites()).toBe(COUNT)

    // The peer comes back: the journal written before the restart reaches it.
    const back = await peerNode(cleanup, { dataDir: peerDir })
    await connect(back, second.primary)
    await waitFor(
      'the journal to drain',
      () => second.hybrid.pendingWrites() === 0 && second.hybrid.getActiveBackend() === 'real',
      60_000
    )
    expect(second.hybrid.getMetrics().journal.replayed).toBe(COUNT)
    const read = await pool(
      Array.from({ length: COUNT }, (_, i) => i),
      12,
      async (i) => dec.decode(await back.getValue(key(i)))
    )
    expect(read).toEqual(Array.from({ length: COUNT }, (_, i) => value(i)))
  }, 180_000)

  it('lets a node with no peers at all write, and delivers once a peer appears', async () => {
    const dir = cleanup.dir('lonely')
    const node = await hybridNode(cleanup, dir)
    const results = await pool(
      Array.from({ length: 20 }, (_, i) => i),
      4,
      (i) => node.hybrid.putValue(`/CHORUS/ucxl/lonely-${i}`, enc.encode(`alone ${i}`))
    )
    expect(results.every((r) => r.storedLocally && r.acks.length === 0)).toBe(true)
    expect(dec.decode(await node.hybrid.getValue('/CHORUS/ucxl/lonely-7'))).toBe('alone 7')
    await waitFor(
      'the lone primary to be marked failed',
      () => node.hybrid.getBackendHealth().real.status === 'failed'
    )
    expect(node.hybrid.pendingWrites()).toBe(20)

    const peer = await peerNode(cleanup)
    await connect(peer, node.primary)
    await waitFor('the journal to drain', () => node.hybrid.pendingWrites() === 0, 60_000)
    for (let i = 0; i < 20; i++) {
      expect(dec.decode(await peer.getValue(`/CHORUS/ucxl/lonely-${i}`))).toBe(`alone ${i}`)
    }
    // Fresh writes now reach the peer directly.
    const direct = await node.hybrid.putValue('/CHORUS/ucxl/lonely-after', enc.encode('with a peer'))
    expect(direct.acks).toEqual([peer.peerId])
  }, 120_000)
})
