/**
 * The sweep as anti-entropy repair, on 3 real nodes over TCP on 127.0.0.1, factor 3: with a
 * repair interval shorter than the reprovide interval, passes run every repair interval, only one
 * in each reprovide interval looks up the regions' closest peers, and the passes between bring a
 * holder's stale copy up to date (no per-key repair, no per-key provide: what moves is the sweep's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, versionedRecord, waitFor } from '../bench/cluster.ts'
import { createReplicationManager } from '../src/index.js'

const NODES = 3
const RECORDS = 20
const REPAIR = 1_500
const REPROVIDE = 120_000
const key = (i: number): string => `/CHORUS/test/sweep-repair-${i}`
const u8 = (v: Uint8Array | undefined): Uint8Array | undefined => (v == null ? v : new Uint8Array(v))

let cluster: Cluster
const metrics = (i: number) => cluster.nodes[i]!.manager!.getMetrics()

beforeAll(async () => {
  cluster = new Cluster({
    size: NODES,
    createManager: createReplicationManager,
    replication: {
      replicationFactor: NODES,
      enableAutoReplication: false,
      enableReprovide: false,
      repairInterval: REPAIR,
      reprovideInterval: REPROVIDE,
      requestTimeout: 10_000,
      jitter: 0
    }
  })
  await cluster.start()
  for (let i = 0; i < RECORDS; i++) {
    const v = versionedRecord('w', 1, `record ${i}`)
    for (const node of cluster.nodes) await node.manager!.addContent(key(i), v.byteLength, 0, { value: v })
  }
}, 120_000)

afterAll(async () => {
  await cluster?.destroy()
}, 60_000)

describe('the sweep repairs between reprovides', () => {
  it('passes every repair interval look up only once per reprovide interval, and update a stale copy', async () => {
    // a pass with the records in place (a reprovide: none looked up yet) is over on every node
    await waitFor(
      'a first pass over the records',
      () => (cluster.nodes.every((_, i) => metrics(i).reprovideOperations > 0) ? true : undefined),
      30_000,
      100
    )
    // ... and ended (it may have had more regions to go)
    const first = cluster.nodes.map((_, i) => metrics(i).sweepPasses)
    await waitFor(
      'the pass ended',
      () => (cluster.nodes.every((_, i) => metrics(i).sweepPasses > first[i]!) ? true : undefined),
      30_000,
      50
    )
    const lookedUp = cluster.nodes.map((_, i) => metrics(i).reprovideOperations)
    const passes = cluster.nodes.map((_, i) => metrics(i).sweepPasses)
    // a new version on node 0 only: auto-replication is off, so no push carries it
    const v2 = versionedRecord('w', 2, 'record 0, second version')
    await cluster.nodes[0]!.manager!.addContent(key(0), v2.byteLength, 0, { value: v2 })
    await waitFor(
      'every node holds the second version',
      () =>
        cluster.nodes.every((n) => n.manager!.getPinnedValue(key(0))?.length === v2.length)
          ? true
          : undefined,
      10 * REPAIR,
      100
    )
    for (const n of cluster.nodes) expect(u8(n.manager!.getPinnedValue(key(0)))).toEqual(v2)
    // passes ran in the meantime, none of them a reprovide (the pass that carried the second
    // version ends once its later regions are swept, up to one repair interval after)
    await waitFor(
      'a pass ended since',
      () => (cluster.nodes.some((_, i) => metrics(i).sweepPasses > passes[i]!) ? true : undefined),
      4 * REPAIR,
      50
    )
    expect(cluster.nodes.map((_, i) => metrics(i).reprovideOperations)).toEqual(lookedUp)
  }, 60_000)
})
