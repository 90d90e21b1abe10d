import type { LibP2PDHT } from '@chorus/dht'
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, connect, dec, enc, hybridNode, peerNode, pool, waitFor } from './helpers.js'

const cleanup = new Cleanup()
const t0 = Date.now()
const mark = (what: string): void => console.log(`[failover] ${what} at ${Date.now() - t0} ms`)
afterEach(() => cleanup.run())

const RECORDS = 1_000
const STOP_AT = 300
const key = (i: number): string => `/CHORUS/ucxl/record-${String(i).padStart(4, '0')}`
const value = (i: number): string => `record ${i} written by the hybrid node`

describe('HybridDHT over real libp2p nodes: fail-over with no write lost', () => {
  it('keeps 1,000 writes through a network outage and delivers them when the peers return', async () => {
    const dir = cleanup.dir('outage')
    const node = await hybridNode(cleanup, dir)
    const { hybrid, primary } = node
    // Two peers with their own data directories, so they come back with the same identity.
    const peerDirs = [cleanup.dir('peer-a'), cleanup.dir('peer-b')]
    let peers: LibP2PDHT[] = []
    for (const d of peerDirs) {
      const p = await peerNode(cleanup, { dataDir: d })
      await connect(p, primary)
      peers.push(p)
    }
    await waitFor('the probe to pass', () => hybrid.probe())
    mark('network up')

    // Part one with the network up: puts go to the network (any the loaded machine lets time out
    // are journaled and replayed; the journal is empty before the outage).
    const acked = await pool(
      Array.from({ length: STOP_AT }, (_, i) => i),
      8,
      async (i) => (await hybrid.putValue(key(i), enc.encode(value(i)))).acks.length
    )
    expect(acked.filter((n) => n >= 1).length).toBeGreaterThan(STOP_AT / 2)
    await waitFor('part one on the network', () => hybrid.pendingWrites() === 0, 60_000)
    const before = hybrid.getMetrics()
    mark(`${STOP_AT} puts acknowledged`)

    // The peers go away part-way through.
    for (const p of peers) await p.close()
    const results = await pool(
      Array.from({ length: RECORDS - STOP_AT }, (_, k) => STOP_AT + k),
      8,
      (i) => hybrid.putValue(key(i), enc.encode(value(i)))
    )
    // Every put succeeded locally; none claimed a remote ack it did not get.
    for (const r of results) {
      expect(r.storedLocally).toBe(true)
      expect(r.acks).toEqual([])
    }
    mark('rest written')
    await waitFor('fail-over', () => hybrid.getActiveBackend() === 'mock', 30_000)
    const during = hybrid.getBackendHealth()
    expect(during.real.status).toBe('failed')
    expect(during.real.consecutive).toBeGreaterThanOrEqual(3)
    expect(during.mock.status).toBe('healthy')
    expect(hybrid.getMetrics().failovers).toBe(before.failovers + 1)
    expect(hybrid.pendingWrites()).toBe(RECORDS - STOP_AT)

    // Every record is readable on this node at once.
    const local = await pool(
      Array.from({ length: RECORDS }, (_, i) => i),
      16,
      async (i) => dec.decode(await hybrid.getValue(key(i)))
    )
    expect(local).toEqual(Array.from({ length: RECORDS }, (_, i) => value(i)))

    mark('all read locally')
    // The peers come back (same data directories, same ids) and rejoin through the node.
    peers = []
    for (const d of peerDirs) {
      const p = await peerNode(cleanup, { dataDir: d })
      await connect(p, primary)
      peers.push(p)
    }
    await waitFor(
      'fail-back and an empty journal',
      () => hybrid.getActiveBackend() === 'real' && hybrid.pendingWrites() === 0,
      200_000
    )
    mark('journal replayed')
    const metrics = hybrid.getMetrics()
    expect(metrics.failbacks).toBe(metrics.failovers)
    expect(metrics.journal.replayed - before.journal.replayed).toBe(RECORDS - STOP_AT)
    expect(metrics.journal.dropped).toBe(0)
    expect(hybrid.getBackendHealth().real.status).toBe('healthy')

    // Every record is readable from another node.
    const other = peers[0]!
    const remote = await pool(
      Array.from({ length: RECORDS }, (_, i) => i),
      24,
      async (i) => dec.decode(await other.getValue(key(i)))
    )
    expect(remote).toEqual(Array.from({ length: RECORDS }, (_, i) => value(i)))
    mark('all read remotely')

    // The metrics saw it all: real failures during the outage, every put on the local backend.
    expect(metrics.backends.real.errors).toBeGreaterThanOrEqual(3)
    expect(metrics.backends.real.byOperation.replay?.operations).toBeGreaterThanOrEqual(RECORDS - STOP_AT)
    expect(metrics.backends.mock.byOperation.putValue?.operations).toBe(RECORDS)
    expect(metrics.backends.real.latency.count).toBeGreaterThan(0)
    expect(metrics.backends.real.latency.p99).toBeGreaterThanOrEqual(metrics.backends.real.latency.p50)
  }, 300_000)
})
