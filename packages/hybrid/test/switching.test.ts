import { NotFoundError } from '@chorus/dht'
import { afterEach, describe, expect, it } from 'vitest'
import { HybridConfigError } from '../src/index.js'
import { Cleanup, connect, dec, enc, hybridNode, peerNode, waitFor } from './helpers.js'

const cleanup = new Cleanup()
afterEach(() => cleanup.run())

describe('HybridDHT manual switching, health and metrics', () => {
  it('respects switchBackend and reports what happened', async () => {
    const dir = cleanup.dir('switch')
    // Probing only when the test asks, so the counts below are exact.
    const node = await hybridNode(cleanup, dir, { probeInterval: 0 })
    const { hybrid, primary } = node
    let peer = await peerNode(cleanup, { dataDir: cleanup.dir('switch-peer') })
    await connect(peer, primary)
    await waitFor('a passing probe', () => hybrid.probe())
    expect(hybrid.getActiveBackend()).toBe('real')

    // Pinned to the local backend: nothing goes to the network, writes wait in the journal.
    hybrid.switchBackend('mock')
    expect(hybrid.getMode()).toBe('mock')
    expect(hybrid.getActiveBackend()).toBe('mock')
    const realBefore = hybrid.getMetrics().backends.real.operations
    for (let i = 0; i < 10; i++) {
      const r = await hybrid.putValue(`/CHORUS/ucxl/pinned-${i}`, enc.encode(`pinned ${i}`))
      expect(r.acks).toEqual([])
    }
    expect(dec.decode(await hybrid.getValue('/CHORUS/ucxl/pinned-3'))).toBe('pinned 3')
    expect(hybrid.getMetrics().backends.real.operations).toBe(realBefore)
    expect(hybrid.pendingWrites()).toBe(10)
    await expect(peer.getValue('/CHORUS/ucxl/pinned-3')).rejects.toBeInstanceOf(NotFoundError)
    // Probes still run on request in mock mode (health stays current), but do not replay.
    await waitFor('a passing probe', () => hybrid.probe())
    expect(hybrid.pendingWrites()).toBe(10)

    // Back to automatic: the journal replays to the healthy network.
    hybrid.switchBackend('auto')
    await waitFor('the journal to drain', () => hybrid.pendingWrites() === 0, 30_000)
    expect(dec.decode(await peer.getValue('/CHORUS/ucxl/pinned-3'))).toBe('pinned 3')

    // Pinned to the network while it is down: health goes to failed, but no fail-over happens.
    await peer.close()
    hybrid.switchBackend('real')
    for (let i = 0; i < 3; i++) expect(await hybrid.probe()).toBe(false)
    const health = hybrid.getBackendHealth()
    expect(health.real.status).toBe('failed')
    expect(health.real.consecutive).toBe(3)
    expect(health.real.errorCount).toBeGreaterThanOrEqual(3)
    expect(health.real.lastCheck).toBeInstanceOf(Date)
    expect(hybrid.getActiveBackend()).toBe('real')
    const getsBefore = hybrid.getMetrics().backends.real.byOperation.getValue?.operations ?? 0
    await expect(hybrid.getValue('/CHORUS/ucxl/nowhere')).rejects.toBeInstanceOf(NotFoundError)
    expect(hybrid.getMetrics().backends.real.byOperation.getValue?.operations).toBe(getsBefore + 1)
    const put = await hybrid.putValue('/CHORUS/ucxl/while-down', enc.encode('kept'))
    expect(put).toMatchObject({ acks: [], storedLocally: true })
    expect(hybrid.getMetrics().failovers).toBe(0)

    // Automatic again: the failed primary is not used.
    hybrid.switchBackend('auto')
    expect(hybrid.getActiveBackend()).toBe('mock')
    expect(dec.decode(await hybrid.getValue('/CHORUS/ucxl/while-down'))).toBe('kept')

    // The peer returns; two good probes fail back and the write reaches it.
    peer = await peerNode(cleanup, { dataDir: cleanup.dir('switch-peer-2') })
    await connect(peer, primary)
    await waitFor(
      'two passing probes',
      async () => (await hybrid.probe()) && hybrid.getActiveBackend() === 'real'
    )
    await waitFor('the journal to drain', () => hybrid.pendingWrites() === 0, 30_000)
    expect(dec.decode(await peer.getValue('/CHORUS/ucxl/while-down'))).toBe('kept')

    const m = hybrid.getMetrics()
    expect(m.mode).toBe('auto')
    expect(m.activeBackend).toBe('real')
    expect(m.failbacks).toBe(1)
    expect(m.journal.appended).toBe(11)
    expect(m.journal.replayed).toBe(11)
    expect(m.backends.mock.byOperation.putValue?.operations).toBe(11)
    expect(m.backends.real.byOperation.probe?.errors).toBeGreaterThanOrEqual(3)
    expect(m.backends.real.latency.count).toBe(m.backends.real.operations)
    expect(hybrid.getBackendHealth().real).toMatchObject({ status: 'healthy', consecutive: 0 })

    expect(() => hybrid.switchBackend('both' as 'auto')).toThrow(HybridConfigError)
  }, 120_000)
})
