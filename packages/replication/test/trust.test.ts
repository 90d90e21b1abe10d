/**
 * Replication that trusts nothing it has not checked, on 6 real nodes over TCP on 127.0.0.1
 * (factor 2, holder slack 1: a node takes a new key only when it is among the 3 closest to it, of
 * itself and its connected peers; at most 3 records per pushing peer). Each node's offences are
 * recorded and forwarded to its LibP2PDHT's own reputation system, as the agent wires them.
 * Attacks are sent as raw requests of the replicate protocol from a node's DHT.
 */
import { sortByDistance } from '@chorus/dht'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  Cluster,
  type ClusterNode,
  testAuthorKey,
  testRecord,
  versionedRecord,
  waitFor
} from '../bench/cluster.ts'
import {
  createReplicationManager,
  type EquivocationEvent,
  REFUSAL_TEXT,
  type ReplicationPenalty
} from '../src/index.js'
import { decodeResponse, encodeRequest, type ReplicateResponse } from '../src/protocol.js'

const FACTOR = 2
const SLACK = 1
const MAX_RECORDS = 3
const MARKER = 'marker-4b1d-not-to-be-echoed'

/** Offences each node reported, by the reporting node's peer id. */
const charges = new Map<string, Array<{ peer: string; reason: ReplicationPenalty }>>()
const equivocations = new Map<string, EquivocationEvent[]>()
let cluster: Cluster

beforeAll(async () => {
  cluster = new Cluster({
    size: 6,
    createManager: createReplicationManager,
    replication: {
      replicationFactor: FACTOR,
      holderSlack: SLACK,
      maxRecordsPerPeer: MAX_RECORDS,
      repairInterval: 1_500,
      repairBackoffMin: 500,
      repairBackoffMax: 3_000,
      repairRankDelay: 500,
      livenessTTL: 300,
      requestTimeout: 5_000,
      reprovideInterval: 60_000,
      republishInterval: 60_000,
      cleanupInterval: 30_000,
      maxRecordBytes: 64 * 1024
    },
    components: (dht) => ({
      reputation: {
        penalise: (peer, reason) => {
          const list = charges.get(dht.peerId) ?? []
          list.push({ peer, reason })
          charges.set(dht.peerId, list)
          dht.reputation?.penalise(peer, reason)
        }
      }
    }),
    onManager: (node, manager) => {
      manager.addEventListener('equivocation', (e) => {
        const list = equivocations.get(node.peerId) ?? []
        list.push(e.detail)
        equivocations.set(node.peerId, list)
      })
    }
  })
  await cluster.start()
}, 90_000)

afterAll(async () => {
  await cluster?.destroy()
}, 60_000)

const ids = (): string[] => cluster.running().map((n) => n.peerId)
const byId = (id: string): ClusterNode => cluster.running().find((n) => n.peerId === id)!
const chargesBy = (node: ClusterNode) => charges.get(node.peerId) ?? []
/** The charges `node` reports from now on (an earlier test's liar may be this test's honest peer). */
const chargesFromNow = (node: ClusterNode) => {
  const before = chargesBy(node).length
  return () => chargesBy(node).slice(before)
}

/** A raw replicate request from `from` to `to`: the response, and its bytes as text. */
async function send(from: ClusterNode, to: ClusterNode, body: Uint8Array) {
  const raw = await from.dht!.request(to.peerId, to.manager!.protocol, body)
  return { res: decodeResponse(raw), text: Buffer.from(raw).toString('latin1') }
}
const push = (from: ClusterNode, to: ClusterNode, key: string, value: Uint8Array, holders?: string[]) =>
  send(from, to, encodeRequest({ key, value, priority: 1, ...(holders ? { holders } : {}) }))
const refusalOf = (code: keyof typeof REFUSAL_TEXT): ReplicateResponse => ({
  ok: false,
  code,
  reason: REFUSAL_TEXT[code]
})

/** A key `node` is among the FACTOR + SLACK closest to of every node (so a target in any view). */
function targetKey(node: ClusterNode, name: string): string {
  for (let i = 0; ; i++) {
    const key = `/CHORUS/trust/${name}-${i}`
    if (sortByDistance(key, ids()).indexOf(node.peerId) < FACTOR + SLACK) return key
  }
}

describe('replication that trusts nothing it has not checked', () => {
  it('refuses a push to a node that is not among the key\u2019s targets, and pins nothing', async () => {
    const [sender, receiver] = cluster.running()
    // farther from the key than FACTOR + SLACK + 1 of the peers it is connected to
    const connected = receiver!.dht!.getConnectedPeers()
    expect(connected.length).toBeGreaterThanOrEqual(FACTOR + SLACK + 1)
    let key = ''
    for (let i = 0; key === ''; i++) {
      const k = `/CHORUS/trust/elsewhere-${i}`
      if (sortByDistance(k, [receiver!.peerId, ...connected]).indexOf(receiver!.peerId) > FACTOR + SLACK)
        key = k
    }
    const { res, text } = await push(sender!, receiver!, key, testRecord(MARKER))
    expect(res).toEqual(refusalOf('NOT_A_TARGET'))
    expect(text).not.toContain(MARKER)
    expect(receiver!.manager!.getPinnedValue(key)).toBeUndefined()
    expect(receiver!.manager!.listContent()).not.toContain(key)
    await expect(receiver!.dht!.getValue(key, { localOnly: true })).rejects.toThrow()
  }, 30_000)

  it('a forged holder claim does not make a key healthy: repair brings it to the factor on honest holders', async () => {
    const key = '/CHORUS/trust/forged'
    // by distance to the key: the receiver, two honest candidates, the forger, two forged names
    const order = sortByDistance(key, ids()).map(byId)
    const [receiver, , , forger, forged1, forged2] = order
    const names = [forged1!.peerId, forged2!.peerId]
    const { res } = await push(forger!, receiver!, key, testRecord('forged'), names)
    expect(res).toEqual({ ok: true })
    // neither the named holders nor the pusher (it holds nothing either) count
    const status = await receiver!.manager!.getReplicationStatus(key)
    const proven = status.providers.filter((p) => p.live && p.proven).map((p) => p.peerId)
    expect(proven).not.toContain(forged1!.peerId)
    expect(proven).not.toContain(forged2!.peerId)
    expect(proven).not.toContain(forger!.peerId)
    // the receiver's repair runs and puts a second copy on an honest node
    const holders = await waitFor(
      `${key} on ${FACTOR} nodes`,
      () => {
        const h = cluster.holders(key)
        return h.length >= FACTOR ? h : undefined
      },
      30_000,
      200
    )
    expect(holders.map((h) => h.peerId)).toContain(receiver!.peerId)
    expect(holders.map((h) => h.peerId)).not.toContain(forger!.peerId)
    const healthy = await waitFor(
      `${key} healthy at the receiver`,
      async () => {
        const st = await receiver!.manager!.getReplicationStatus(key)
        return st.health === 'healthy' ? st : undefined
      },
      30_000,
      300
    )
    // every holder it counts pins the value
    const pinning = new Set(cluster.holders(key).map((h) => h.peerId))
    for (const p of healthy.providers.filter((q) => q.live && q.proven))
      expect(pinning.has(p.peerId)).toBe(true)
    // the named peers made no claim themselves: they are not charged
    const charged = chargesBy(receiver!).map((c) => c.peer)
    for (const n of [...names, forger!.peerId]) expect(charged).not.toContain(n)
  }, 90_000)

  it('charges a provider that announced a key it cannot prove, and does not count it', async () => {
    const key = '/CHORUS/trust/announced'
    const order = sortByDistance(key, ids()).map(byId)
    const author = order[0]!
    const liar = order[5]!
    const value = testRecord('announced')
    await author.manager!.addContent(key, value.byteLength, 1, { value })
    await waitFor(
      `${key} on ${FACTOR} nodes`,
      () => (cluster.holders(key).length >= FACTOR ? true : undefined),
      30_000,
      200
    )
    expect(liar.manager!.getPinnedValue(key)).toBeUndefined()
    const bansBefore = author.dht!.reputation!.stats().penalties['bogus-provider']
    // the liar announces itself as a provider without holding anything
    await liar.dht!.provide(key)
    const status = await waitFor(
      'the author to challenge the announced provider',
      async () => {
        const st = await author.manager!.getReplicationStatus(key, { refresh: true })
        return chargesBy(author).some((c) => c.peer === liar.peerId) ? st : undefined
      },
      30_000,
      500
    )
    expect(chargesBy(author).filter((c) => c.peer === liar.peerId)).toEqual([
      { peer: liar.peerId, reason: 'bogus-provider' }
    ])
    expect(author.dht!.reputation!.stats().penalties['bogus-provider']).toBeGreaterThan(bansBefore)
    expect(status.providers.find((p) => p.peerId === liar.peerId)?.proven ?? false).toBe(false)
    expect(status.actualReplicas).toBeLessThanOrEqual(cluster.holders(key).length)
    // asked again, it is neither counted nor charged twice
    const again = await author.manager!.getReplicationStatus(key, { refresh: true })
    expect(again.providers.filter((p) => p.proven).map((p) => p.peerId)).not.toContain(liar.peerId)
    expect(chargesBy(author).filter((c) => c.peer === liar.peerId)).toHaveLength(1)
  }, 60_000)

  it("an older or equivocating value never replaces the author's own pin; a successor does", async () => {
    const [relay, author] = cluster.running().slice(1, 3)
    const key = '/CHORUS/trust/chain'
    const own = versionedRecord('alice', 2, 'two')
    await author!.manager!.addContent(key, own.byteLength, 1, { value: own })
    const newCharges = chargesFromNow(author!)
    const pinned = () => new Uint8Array(author!.manager!.getPinnedValue(key)!)
    const served = async () => new Uint8Array(await author!.dht!.getValue(key, { localOnly: true }))

    expect((await push(relay!, author!, key, versionedRecord('alice', 1, 'one'))).res).toEqual(
      refusalOf('STALE')
    )
    expect((await push(relay!, author!, key, versionedRecord('mallory', 9, MARKER))).res).toEqual(
      refusalOf('STALE')
    )
    const forked = await push(relay!, author!, key, versionedRecord('alice', 2, MARKER))
    expect(forked.res).toEqual(refusalOf('EQUIVOCATION'))
    expect(forked.text).not.toContain(MARKER)
    expect(pinned()).toEqual(own)
    expect(await served()).toEqual(own)
    expect(author!.manager!.getMetrics().equivocations).toBe(1)
    expect(equivocations.get(author!.peerId)).toEqual([
      { key, authorKey: testAuthorKey('alice'), from: relay!.peerId }
    ])
    // stale and equivocating pushes cost the relay nothing (the author signed them)
    expect(newCharges().filter((c) => c.peer === relay!.peerId)).toEqual([])

    const next = versionedRecord('alice', 3, 'three')
    expect((await push(relay!, author!, key, next)).res).toEqual({ ok: true })
    expect(pinned()).toEqual(next)
    expect(await served()).toEqual(next)
  }, 30_000)

  it('a per-peer quota is enforced and survives a restart', async () => {
    const receiver = cluster.nodes[4]!
    const sender = cluster.nodes[5]!
    const accepted: string[] = []
    let refusal: ReplicateResponse | undefined
    // honest repairs of the sender may already have used some of its quota at the receiver
    for (let i = 0; i <= MAX_RECORDS && refusal == null; i++) {
      const key = targetKey(receiver, `quota-${i}`)
      const { res } = await push(sender, receiver, key, testRecord(`quota ${i}`))
      if (res.ok) accepted.push(key)
      else refusal = res
    }
    expect(refusal).toEqual(refusalOf('QUOTA'))
    expect(accepted.length).toBeLessThanOrEqual(MAX_RECORDS)
    await cluster.stopNode(4)
    await cluster.startNode(4)
    // a connection between the two again (the receiver listens on a new port)
    await waitFor(
      'the restarted receiver to reach the sender',
      () => receiver.dht!.ping(sender.peerId),
      30_000,
      500
    )
    for (const key of accepted) expect(receiver.manager!.getPinnedValue(key)).toBeDefined()
    const { res, text } = await push(sender, receiver, targetKey(receiver, 'quota-after'), testRecord(MARKER))
    expect(res).toEqual(refusalOf('QUOTA'))
    expect(text).not.toContain(MARKER)
    // another peer's quota is its own
    const other = cluster.nodes[3]!
    const fresh = targetKey(receiver, 'quota-other')
    expect((await push(other, receiver, fresh, testRecord('other'))).res).toEqual({ ok: true })
  }, 90_000)

  it('refuses an invalid record and a malformed request with fixed texts and charges the sender', async () => {
    const sender = cluster.nodes[2]!
    const receiver = cluster.nodes[1]!
    const key = targetKey(receiver, 'invalid')
    const newCharges = chargesFromNow(receiver)
    const invalid = await push(sender, receiver, key, new TextEncoder().encode(`no magic ${MARKER}`))
    expect(invalid.res).toEqual(refusalOf('INVALID_RECORD'))
    expect(invalid.text).not.toContain(MARKER)
    expect(invalid.text).not.toMatch(/CHR1 magic/)
    expect(receiver.manager!.getPinnedValue(key)).toBeUndefined()
    const garbage = await send(sender, receiver, new TextEncoder().encode(`{not cbor ${MARKER}`))
    expect(garbage.res).toEqual(refusalOf('MALFORMED_REQUEST'))
    expect(garbage.text).not.toContain(MARKER)
    expect(newCharges().filter((c) => c.peer === sender.peerId)).toEqual([
      { peer: sender.peerId, reason: 'invalid-record' },
      { peer: sender.peerId, reason: 'invalid-message' }
    ])
    const stats = receiver.dht!.reputation!.stats()
    expect(stats.penalties['invalid-record']).toBeGreaterThanOrEqual(1)
    expect(stats.penalties['invalid-message']).toBeGreaterThanOrEqual(1)
  }, 30_000)
})
