/**
 * The keyspace sweep on 5 real nodes over TCP on 127.0.0.1, factor 3, 2,000 records of about
 * 1 KiB, each placed on its 3 closest nodes. Per-key work is off (no auto-replication, no per-key
 * provide), so whatever moves is the sweep's. The tests run in order on one cluster.
 */
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { keyPosition, sortByDistance } from '@chorus/dht'
import { encode } from 'cborg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster, testRecord, waitFor } from '../bench/cluster.ts'
import { createReplicationManager, type ReplicationMetrics, type ReplicationPenalty } from '../src/index.js'
import { decodeResponse, REFUSAL_TEXT } from '../src/protocol.js'
import { prefixBytes, regionOf } from '../src/sweep/keyspace.js'
import { decodeSyncResponse, encodeSyncRequest, MAX_SYNC_KEYS, packPairs } from '../src/sweep/wire.js'

const NODES = 5
const FACTOR = 3
const RECORDS = 2_000
const INTERVAL = 10_000
const key = (i: number): string => `/CHORUS/test/sweep-${i}`
const value = (i: number): Uint8Array => testRecord(`${String(i).padStart(6, '0')}:${'r'.repeat(1_000)}`)
const u8 = (v: Uint8Array | undefined): Uint8Array | undefined => (v == null ? v : new Uint8Array(v))

const penalties: Array<Array<[string, ReplicationPenalty]>> = Array.from({ length: NODES }, () => [])
let cluster: Cluster

const metrics = (i: number): ReplicationMetrics => cluster.nodes[i]!.manager!.getMetrics()

/** Waits until every running node completed `more` further sweep passes. */
async function passes(more: number): Promise<void> {
  const start = cluster.running().map((n) => n.manager!.getMetrics().sweepPasses)
  await waitFor(
    `${more} more sweep passes on every node`,
    () =>
      cluster.running().every((n, i) => n.manager!.getMetrics().sweepPasses >= start[i]! + more)
        ? true
        : undefined,
    20 * INTERVAL,
    250
  )
}

beforeAll(async () => {
  cluster = new Cluster({
    size: NODES,
    createManager: createReplicationManager,
    replication: {
      replicationFactor: FACTOR,
      enableAutoReplication: false,
      enableReprovide: false,
      reprovideInterval: INTERVAL,
      requestTimeout: 10_000,
      proofTTL: 3_600_000,
      jitter: 0
    },
    components: (_dht, index) => ({
      reputation: {
        penalise: (peer: string, reason: ReplicationPenalty) => penalties[index]!.push([peer, reason])
      }
    })
  })
  await cluster.start()
  const ids = cluster.nodes.map((n) => n.peerId)
  for (let i = 0; i < RECORDS; i++) {
    const v = value(i)
    for (const id of sortByDistance(key(i), ids).slice(0, FACTOR)) {
      const node = cluster.nodes.find((n) => n.peerId === id)!
      await node.manager!.addContent(key(i), v.byteLength, 0, { value: v })
    }
  }
}, 240_000)

afterAll(async () => {
  await cluster?.destroy()
}, 60_000)

describe(`the keyspace sweep on ${NODES} nodes, ${RECORDS} records`, () => {
  it('one interval costs O(regions × peers) messages, not O(keys)', async () => {
    // a pass with the records in place, then one to measure (nothing left to transfer)
    await passes(2)
    let messages = 0
    let regions = 0
    let held = 0
    for (let i = 0; i < NODES; i++) {
      const m = metrics(i)
      held += m.totalKeys
      messages += m.sweepLastPassMessages
      regions += m.sweepLastPassRegions
      // one summary per region and peer that shares keys with this node, at most
      expect(m.sweepLastPassMessages).toBeLessThanOrEqual(m.sweepLastPassRegions * (NODES - 1))
      expect(m.sweepLastPassRegions).toBeGreaterThan(0)
      // a lookup per region swept on the reprovide passes, never one per key
      expect(m.sweepLookups).toBeGreaterThan(0)
      expect(m.sweepLookups).toBeLessThanOrEqual(m.sweepRegions)
    }
    // each record on its 3 closest nodes (a lookup that missed a node may have added a copy)
    expect(held).toBeGreaterThanOrEqual(RECORDS * FACTOR)
    expect(held).toBeLessThanOrEqual(RECORDS * FACTOR * 1.05)
    // per-key provides would be one query (several messages) per key held; the sweep, one
    // lookup per region and one message per region and peer
    expect(regions + messages).toBeLessThan(held / 20)
    for (let i = 0; i < NODES; i++) expect(penalties[i]).toEqual([])
  }, 240_000)

  it('a node whose data directory was wiped is refilled with at most 1.2x the bytes it lost', async () => {
    const w = NODES - 1
    const lost = cluster.nodes[w]!.manager!.listContent()
    const lostBytes = lost.reduce(
      (n, k) => n + (cluster.nodes[w]!.manager!.getPinnedValue(k)?.byteLength ?? 0),
      0
    )
    expect(lost.length).toBeGreaterThan(RECORDS / 3)
    const pushedBefore = cluster.nodes.map((n, i) =>
      i === w ? 0 : (n.manager?.getMetrics().repairBytes ?? 0)
    )
    await cluster.stopNode(w)
    // everything but the node's key (its peer id, so its place in the keyspace, stays)
    const dir = cluster.nodes[w]!.dir
    rmSync(join(dir, 'replication'), { recursive: true, force: true })
    for (const f of readdirSync(join(dir, 'dht'))) {
      if (f !== 'peer.key') rmSync(join(dir, 'dht', f), { recursive: true, force: true })
    }
    await cluster.startNode(w)
    const node = cluster.nodes[w]!
    expect(node.manager!.listContent()).toEqual([])
    await waitFor(
      'the wiped node holds every record it lost again',
      () => (lost.every((k) => node.manager!.getPinnedValue(k) != null) ? true : undefined),
      20 * INTERVAL,
      200
    ).catch((err: unknown) => {
      const missing = lost.filter((k) => node.manager!.getPinnedValue(k) == null).length
      throw new Error(`${String(err)}: ${missing} missing; ${JSON.stringify(node.manager!.getMetrics())}`)
    })
    const m = node.manager!.getMetrics()
    const pushed = cluster.nodes.reduce(
      (n, x, i) => n + (i === w ? 0 : (x.manager!.getMetrics().repairBytes ?? 0) - pushedBefore[i]!),
      0
    )
    // every byte of sweep traffic in and out of the node (summaries, leaf hashes, pair lists,
    // record batches and their answers), and any per-key push
    const moved = m.sweepBytesSent + m.sweepBytesReceived + pushed
    expect(m.sweepRecordsReceived).toBeGreaterThanOrEqual(lost.length)
    expect(moved).toBeLessThanOrEqual(1.2 * lostBytes)
    for (const k of lost) {
      const i = Number(k.slice(k.lastIndexOf('-') + 1))
      expect(u8(node.manager!.getPinnedValue(k))).toEqual(value(i))
    }
  }, 240_000)

  it('a lying peer (wrong summary, records it will not serve, oversized messages) is refused and charged', async () => {
    const [liar, honest] = [cluster.nodes[0]!, cluster.nodes[1]!]
    const protocol = honest.manager!.protocol
    const send = (body: Uint8Array) =>
      liar.dht!.request(honest.peerId, protocol, body, { maxResponseBytes: 1 << 18 })
    const peers = [liar.peerId, honest.peerId]
    const before = penalties[1]!.length
    // a made-up key in a region: its summary cannot match, and its records do not exist
    const fake = '/CHORUS/test/never-written'
    const position = keyPosition(fake)
    const region = regionOf(position, 3)
    const scope = { prefix: prefixBytes(region), bits: 3, peers, depth: 0 }
    const summary = decodeSyncResponse(
      'sync',
      await send(
        encodeSyncRequest({
          op: 'sync',
          ...scope,
          count: 1,
          root: new Uint8Array(32).fill(1),
          nonce: new Uint8Array(32)
        })
      ),
      0
    )
    expect(summary).toMatchObject({ ok: true, sync: { match: false } })
    const leaves = decodeSyncResponse(
      'sync-leaves',
      await send(
        encodeSyncRequest({
          op: 'sync-leaves',
          ...scope,
          leaves: [[0, packPairs([{ position, digest: new Uint8Array(32).fill(9) }])]]
        })
      )
    )
    expect(leaves).toMatchObject({ ok: true, sync: { want: [0] } })
    const session = (leaves as { sync: { session: Uint8Array } }).sync.session
    // the end of the session, without the record it named
    await send(encodeSyncRequest({ op: 'sync-records', session, records: [], final: true }))
    expect(penalties[1]!.slice(before)).toEqual([[liar.peerId, 'bogus-provider']])
    // oversized: more pairs than a message may carry, more peers than a lookup returns
    const tooMany = await send(
      encode({ v: 1, op: 'sync-leaves', ...scope, leaves: [[0, new Uint8Array(32 * (MAX_SYNC_KEYS + 1))]] })
    )
    expect(decodeResponse(tooMany)).toEqual({
      ok: false,
      code: 'MALFORMED_REQUEST',
      reason: REFUSAL_TEXT.MALFORMED_REQUEST
    })
    const tooManyPeers = await send(
      encode({
        v: 1,
        op: 'sync',
        ...scope,
        peers: new Array(40).fill(liar.peerId),
        count: 0,
        root: new Uint8Array(32),
        nonce: new Uint8Array(32)
      })
    )
    expect(decodeResponse(tooManyPeers)).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' })
    expect(penalties[1]!.slice(before + 1)).toEqual([
      [liar.peerId, 'invalid-message'],
      [liar.peerId, 'invalid-message']
    ])
    expect(honest.manager!.getPinnedValue(fake)).toBeUndefined()
  }, 120_000)
})
