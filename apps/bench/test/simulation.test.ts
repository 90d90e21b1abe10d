import { describe, expect, it } from 'vitest'
import { sha256 } from '../src/sim/distance.js'
import { loadKadInternals } from '../src/sim/kad-internals.js'
import { SimNetwork } from '../src/sim/network.js'
import { runSimulation } from '../src/sim/run.js'

describe('scale simulation on kad-dht routing code', () => {
  it('N=50, no node dead: every lookup by both engines finds the true k closest peers once everyone has met', async () => {
    const kad = await loadKadInternals()
    const net = new SimNetwork(kad, { seed: 7 })
    await net.build(50)
    await net.completeTables()
    try {
      for (const size of net.tableSizes()) expect(size).toBe(49)
      for (let i = 0; i < 20; i++) {
        const origin = net.pick(net.alive())
        const key = net.randomKey()
        const truth = net.trueClosest(sha256(key), origin)
        expect(truth).toHaveLength(20)
        for (const result of [await net.lookup(origin, key), await net.lookupWithKadDHT(origin, key)]) {
          expect(result.closest.map((n) => n.index)).toEqual(truth.map((n) => n.index))
          expect(result.failed).toBe(0)
          expect(result.hops).toBe(1)
          expect(result.messages).toBeGreaterThanOrEqual(20)
          expect(result.messages).toBeLessThan(50)
        }
      }
    } finally {
      await net.stop()
    }
  })

  it('N=50 as joined (partial tables), no node dead: lookups find the closest peer and most of the k closest', async () => {
    const kad = await loadKadInternals()
    const net = new SimNetwork(kad, { seed: 5 })
    await net.build(50)
    try {
      let recall = 0
      let lookups = 0
      let closestFound = 0
      for (let i = 0; i < 20; i++) {
        const origin = net.pick(net.alive())
        const key = net.randomKey()
        const truth = net.trueClosest(sha256(key), origin)
        for (const result of [await net.lookup(origin, key), await net.lookupWithKadDHT(origin, key)]) {
          // Kademlia finds the closest peer whenever some asked peer knows it; the rest of the k
          // closest can be missed (only strictly closer peers are followed): checked on average.
          if (result.closest[0] === truth[0]) closestFound++
          const found = new Set(result.closest)
          recall += truth.filter((n) => found.has(n)).length / truth.length
          lookups++
        }
      }
      expect(closestFound / lookups).toBeGreaterThanOrEqual(0.95)
      expect(recall / lookups).toBeGreaterThan(0.9)
    } finally {
      await net.stop()
    }
  })

  it("answers FIND_NODE with exactly what kad-dht's KBucket.closest answers", async () => {
    const kad = await loadKadInternals()
    const net = new SimNetwork(kad, { seed: 3, prefixLength: 2 })
    await net.build(60)
    try {
      for (let i = 0; i < 20; i++) {
        const node = net.pick(net.nodes)
        const requester = net.pick(net.nodes)
        const kadId = sha256(net.randomKey())
        const ours = net.closestInTable(node, kadId, requester).map((n) => n.peerId.toString())
        const theirs = [
          ...node.kb.closest(kadId, { count: 20, exclude: [requester.peerId, node.peerId] })
        ].map((p) => p.toString())
        expect(ours).toEqual(theirs)
      }
    } finally {
      await net.stop()
    }
  })

  it('with dead nodes, results hold only live peers and requests to dead ones are counted', async () => {
    const kad = await loadKadInternals()
    const net = new SimNetwork(kad, { seed: 11, prefixLength: 2 })
    await net.build(80)
    net.kill(0.3)
    expect(net.alive()).toHaveLength(56)
    try {
      let failed = 0
      for (let i = 0; i < 10; i++) {
        const r = await net.lookup(net.pick(net.alive()), net.randomKey())
        expect(r.closest.every((n) => n.alive)).toBe(true)
        expect(r.failed).toBeLessThanOrEqual(r.messages)
        failed += r.failed
      }
      // 30 % of every table is dead: some requests must have gone to dead peers
      expect(failed).toBeGreaterThan(0)
    } finally {
      await net.stop()
    }
  })

  it('runSimulation reports per size and dead share', async () => {
    const result = await runSimulation({
      sizes: [40],
      lookups: 5,
      crossCheckLookups: 2,
      deadFractions: [0.3, 0]
    })
    expect(result.kadDhtVersion).toMatch(/^\d+\.\d+\.\d+$/)
    const [size] = result.sizes
    expect(size?.nodes).toBe(40)
    expect(size?.byDead.map((d) => d.dead)).toEqual([0, 0.3])
    expect(size?.byDead[0]?.stats.success).toBe(1)
    expect(size?.crossCheck?.lookups).toBe(2)
    // without --expose-gc (as under vitest) the heap figure is noise, but it is a number
    expect(Number.isFinite(size?.heapBytesPerNode)).toBe(true)
  })
})
