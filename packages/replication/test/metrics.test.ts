/**
 * The reference's replication metrics (and the status's healthy providers), each driven by what
 * really happens on real nodes over TCP on 127.0.0.1, and `findProviders` answering with quality
 * and XOR distance from the provider cache. Each assertion fails if its figure stops moving.
 */
import { keyPeerDistance, log2Distance } from '@chorus/dht'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, testRecord, waitFor } from '../bench/cluster.ts'
import { createReplicationManager, type ReplicationMetrics } from '../src/index.js'

const FACTOR = 2
const KEY = '/CHORUS/test/metrics-record'
const time = (d: Date | undefined): number => d?.getTime() ?? 0

let cluster: Cluster

beforeAll(async () => {
  cluster = new Cluster({
    size: 5,
    createManager: createReplicationManager,
    replication: {
      replicationFactor: FACTOR,
      repairInterval: 1_000,
      repairBackoffMin: 300,
      repairBackoffMax: 2_000,
      repairRankDelay: 300,
      livenessTTL: 300,
      requestTimeout: 3_000,
      reprovideInterval: 1_500,
      republishInterval: 60_000,
      cleanupInterval: 1_000,
      maxRecordBytes: 64 * 1024
    }
  })
  await cluster.start()
  const author = cluster.nodes[0]!
  const value = testRecord('metrics')
  await author.dht!.putValue(KEY, value, { localOnly: true })
  await author.manager!.addContent(KEY, value.byteLength, 5)
}, 90_000)

afterAll(async () => {
  await cluster?.destroy()
}, 60_000)

describe('replication metrics on 5 real nodes', () => {
  it('every reference metric moves with what happens', async () => {
    const author = cluster.nodes[0]!.manager!
    const status = await waitFor(
      'the record healthy, announced and the cache cleaned up once, on its author',
      async () => {
        const s = await author.getReplicationStatus(KEY)
        const done = s.lastReprovided != null && author.getMetrics().lastCleanupTime != null
        return s.health === 'healthy' && done ? s : undefined
      },
      60_000,
      300
    )
    // healthy providers: the remote holders that are live and proved possession
    expect(status.healthyProviders).toBeGreaterThanOrEqual(FACTOR - 1)
    expect(status.lastReprovided).toBeInstanceOf(Date)
    const first: ReplicationMetrics = author.getMetrics()
    expect(first.totalKeys).toBe(1)
    expect(first.totalProviders).toBeGreaterThanOrEqual(FACTOR - 1)
    expect(first.successfulReplications).toBeGreaterThanOrEqual(1)
    expect(first.reprovideOperations).toBeGreaterThanOrEqual(1)
    expect(first.lastReprovideTime).toBeInstanceOf(Date)
    expect(first.lastCleanupTime).toBeInstanceOf(Date)
    // the mean of the keys' last checks: the one key's actual replicas
    expect(first.averageReplication).toBeGreaterThanOrEqual(FACTOR)
    expect(first.healthyKeys).toBe(1)

    // the periodic work goes on: cleanups on the author, and reprovides (each reaching peers) on
    // the holders by position, whose keyspace sweep announces the key once an interval (the
    // author's first provide was its own; it reprovides only when it is among the closest)
    const sweepers = cluster.nodes.map((n) => n.manager!)
    const reprovides = (): number => sweepers.reduce((sum, m) => sum + m.getMetrics().reprovideOperations, 0)
    const newest = (): number => Math.max(...sweepers.map((m) => time(m.getMetrics().lastReprovideTime)))
    const [reprovidedBefore, newestBefore] = [reprovides(), newest()]
    const later = await waitFor(
      'another reprovide and another cleanup',
      () => {
        const m = author.getMetrics()
        return reprovides() > reprovidedBefore &&
          newest() > newestBefore &&
          time(m.lastCleanupTime) > time(first.lastCleanupTime)
          ? m
          : undefined
      },
      30_000,
      200
    )
    expect(later.failedReprovides).toBe(0)
    expect(sweepers.some((m) => m.getMetrics().sweepMessagesSent > 0)).toBe(true)

    // a push that fails counts as a failed replication
    const gone = cluster.nodes[3]!
    const goneId = gone.peerId
    await cluster.stopNode(3)
    await expect(author.replicateTo(goneId, KEY)).rejects.toThrow()
    expect(author.getMetrics().failedReplications).toBeGreaterThan(later.failedReplications)
    // the average follows each check: with one key, the live holders its last check found
    const recheck = await author.getReplicationStatus(KEY, { refresh: true })
    expect(author.getMetrics().averageReplication).toBe(recheck.actualReplicas)
    expect(recheck.actualReplicas).toBeGreaterThanOrEqual(1)
  }, 120_000)

  it('knownHolders names the peers that proved they hold the record', async () => {
    const author = cluster.nodes[0]!
    const known = author.manager!.knownHolders(KEY)
    expect(known.length).toBeGreaterThanOrEqual(1)
    expect(known).not.toContain(author.peerId)
    const pinned = new Set(cluster.holders(KEY).map((n) => n.peerId))
    for (const p of known.filter((id) => cluster.running().some((n) => n.peerId === id))) {
      expect(pinned.has(p)).toBe(true)
    }
  })

  it('findProviders: quality and XOR distance, best first, from the cache once the DHT answered', async () => {
    const holders = new Set(cluster.holders(KEY).map((n) => n.index))
    const outsider = cluster.running().find((n) => !holders.has(n.index))!.manager!
    const before = outsider.getMetrics()
    const found = await outsider.findProviders(KEY, 10)
    const afterFirst = outsider.getMetrics()
    expect(afterFirst.providerLookups).toBe(before.providerLookups + 1)
    expect(found.length).toBeGreaterThanOrEqual(1)
    for (const p of found) {
      expect(p.quality).toBeGreaterThan(0)
      expect(p.quality).toBeLessThanOrEqual(1)
      const d = keyPeerDistance(KEY, p.peerId)
      expect(p.distance).toBe(log2Distance(d))
      expect(p.xorDistance).toBe(d.toString(16).padStart(64, '0'))
      expect(p.addedAt).toBeInstanceOf(Date)
      expect(p.lastSeen).toBeInstanceOf(Date)
    }
    for (let i = 1; i < found.length; i++) {
      const [a, b] = [found[i - 1]!, found[i]!]
      expect(a.quality > b.quality || (a.quality === b.quality && a.xorDistance <= b.xorDistance)).toBe(true)
    }
    // the live holders that proved possession rate above 0.5 (an untested stranger's level)
    const proven = found.filter((p) => p.proven && p.live)
    expect(proven.length).toBeGreaterThanOrEqual(1)
    for (const p of proven) expect(p.quality).toBeGreaterThan(0.5)

    // the next answer comes from the provider cache: no DHT lookup on the call's path
    const again = await outsider.findProviders(KEY, 10)
    const afterSecond = outsider.getMetrics()
    expect(afterSecond.providerLookups).toBe(afterFirst.providerLookups)
    expect(afterSecond.providerCacheHits).toBe(afterFirst.providerCacheHits + 1)
    // every provider of the first answer (the cache may have learned more in between: pushes and
    // the sweep note holders in the background)
    const againIds = new Set(again.map((p) => p.peerId))
    for (const p of found) expect(againIds.has(p.peerId)).toBe(true)
    expect((await outsider.findProviders(KEY, 1)).length).toBe(1)
  }, 60_000)
})

describe('reprovide counters on a node alone', () => {
  let alone: Cluster

  afterAll(async () => {
    await alone?.destroy()
  }, 60_000)

  it('count only announcements that reached peers', async () => {
    alone = new Cluster({
      size: 1,
      createManager: createReplicationManager,
      replication: { replicationFactor: FACTOR, reprovideInterval: 60_000, repairBackoffMin: 300 }
    })
    await alone.start()
    const node = alone.nodes[0]!
    const value = testRecord('alone')
    await node.dht!.putValue(KEY, value, { localOnly: true })
    await node.manager!.addContent(KEY, value.byteLength, 1)
    const m = await waitFor(
      'the first announcement to fail',
      () => {
        const x = node.manager!.getMetrics()
        return x.failedReprovides >= 1 ? x : undefined
      },
      30_000,
      200
    )
    expect(m.reprovideOperations).toBe(0)
    expect(m.lastReprovideTime).toBeUndefined()
    expect((await node.manager!.getReplicationStatus(KEY)).lastReprovided).toBeUndefined()
    await expect(node.manager!.provideContent(KEY)).rejects.toMatchObject({ code: 'DHT_NO_ACKS' })
    expect(node.manager!.getMetrics().failedReprovides).toBeGreaterThan(m.failedReprovides)
  }, 60_000)
})
