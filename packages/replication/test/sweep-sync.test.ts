/**
 * The sweep's anti-entropy exchange without a network: two in-memory stores, the sender's
 * `Exchanges` talking to the receiver's real `ReplicateServer` (its edge, rate limits and the
 * sync and replicate handlers) through a function call instead of a stream.
 */
import { silentLogger } from '@chorus/common'
import { createLocalDHT, keyPosition, type LocalDHT } from '@chorus/dht'
import { decode, encode } from 'cborg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  selectTestRecord,
  successionTestRecord,
  testRecord,
  testRecords,
  validateTestRecord
} from '../bench/cluster.ts'
import type { ReplicationPenalty } from '../src/api.js'
import { type ReplicationConfig, replicationDefaults } from '../src/config.js'
import { ContentEntries, newEntry } from '../src/entries.js'
import { createCounters, type ReplicationCounters } from '../src/metrics.js'
import { decodeResponse, REFUSAL_TEXT } from '../src/protocol.js'
import { refreshAfter } from '../src/providers.js'
import { handleReplicate } from '../src/rpc/handlers/replicate.js'
import { SyncHandler } from '../src/rpc/handlers/sync.js'
import { ReplicateServer } from '../src/rpc/index.js'
import { Exchanges } from '../src/sweep/exchange.js'
import {
  leafOf,
  PeerSet,
  prefixBytes,
  regionBits,
  regionEnd,
  regionFromPrefix,
  regionOf
} from '../src/sweep/keyspace.js'
import { sharedSet } from '../src/sweep/sets.js'
import { decodeSyncResponse, encodeSyncRequest, MAX_SYNC_KEYS, packPairs } from '../src/sweep/wire.js'
import { RecordValues } from '../src/values.js'

const A = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const B = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
const PROTOCOL = '/CHORUS/replicate/1.0.0'
const MARKER = 'secret-marker-7f3a'

interface Side {
  id: string
  dht: LocalDHT
  entries: ContentEntries
  counters: ReplicationCounters
  penalties: Array<[string, ReplicationPenalty]>
  server: ReplicateServer
  handler: SyncHandler
  /** (key, peer) pairs the sync handler named holder candidates. */
  nominated: Array<[string, string]>
}

let sides: Map<string, Side>
const defaultConfig: ReplicationConfig = {
  ...replicationDefaults,
  syncRateLimit: { burst: 50, ratePerSecond: 1 }
}
const config = defaultConfig

function side(id: string, config: ReplicationConfig = defaultConfig): Side {
  const dht = createLocalDHT({ records: testRecords, peerId: id })
  const entries = new ContentEntries({ dataDir: undefined, config })
  entries.open()
  const counters = createCounters()
  const penalties: Array<[string, ReplicationPenalty]> = []
  const penalise = (peer: string, reason: ReplicationPenalty) => penalties.push([peer, reason])
  const values = new RecordValues({ dht, validate: validateTestRecord }, config)
  const replicateComponents = {
    entries,
    dht,
    values,
    select: selectTestRecord,
    succession: successionTestRecord,
    peerId: id,
    connected: () => [A, B].filter((p) => p !== id),
    isStarted: () => true,
    nominate: () => {},
    noteLive: () => {},
    pinned: () => {},
    equivocation: () => {},
    penalise,
    wake: () => {},
    counters,
    log: silentLogger
  }
  const nominated: Array<[string, string]> = []
  const handler = new SyncHandler(
    {
      ranges: () => entries.store,
      peerId: id,
      replicate: (req, from) => handleReplicate(replicateComponents, config, req, from),
      nominate: (key, peers) => {
        for (const p of peers) nominated.push([key, p])
      },
      penalise,
      counters
    },
    config
  )
  const server = new ReplicateServer(
    {
      messaging: { handle: async () => {}, unhandle: async () => {} },
      isStarted: () => true,
      replicate: (req, from) => handleReplicate(replicateComponents, config, req, from),
      prove: () => ({ ok: false, code: 'NOT_HELD', reason: REFUSAL_TEXT.NOT_HELD }),
      sync: (req, from) =>
        req.op === 'sync'
          ? handler.summary(req, from)
          : req.op === 'sync-leaves'
            ? handler.leaves(req, from)
            : handler.records(req, from),
      heldBytes: () => 0,
      penalise,
      counters,
      log: silentLogger
    },
    { ...config, protocol: PROTOCOL }
  )
  return { id, dht, entries, counters, penalties, server, handler, nominated }
}

async function pin(s: Side, key: string, value: Uint8Array): Promise<void> {
  await s.dht.putValue(key, value, { localOnly: true })
  const now = Date.now()
  s.entries.set(
    newEntry(
      { key, size: value.byteLength, priority: 0, createdAt: now, pinned: true, origin: 'local' },
      { nextRepairAt: now, nextProvideAt: now, nextRepublishAt: now }
    ),
    value
  )
}

const key = (i: number) => `/CHORUS/test/sweep-${i}`
/** About 1 KiB, the records' size in the issue. */
const value = (i: number, version = 1) => testRecord(`v${version}:w:${'x'.repeat(1000)}-${i}`)
const region0 = regionOf(new Uint8Array(32), 0)
const u8 = (v: Uint8Array | undefined): Uint8Array | undefined => (v == null ? v : new Uint8Array(v))

/** The sender's side of a sync, with the messaging going straight to the receiver's server. */
function exchange(
  from: Side,
  to: Side,
  answer?: (body: Uint8Array) => Promise<Uint8Array>,
  ex = new Exchanges({
    ...config,
    protocol: PROTOCOL,
    passInterval: config.reprovideInterval,
    holderRefresh: refreshAfter(config.proofTTL)
  })
) {
  const holders: Array<[string, string]> = []
  const tally = { messages: 0, bytes: 0 }
  const run = async () => {
    const peers = new PeerSet([from.id, to.id])
    const ranges = from.entries.store!
    const set = sharedSet(ranges, region0, peers, from.id, to.id, 3)
    return ex.sync(
      {
        messaging: {
          request: async (_peer, _protocol, body) =>
            answer != null ? answer(body) : to.server.serve(body, from.id)
        },
        ranges,
        recordHolder: (k, p) => holders.push([k, p]),
        penalise: (peer, reason) => from.penalties.push([peer, reason]),
        counters: from.counters,
        tally,
        log: silentLogger
      },
      to.id,
      region0,
      peers,
      set,
      AbortSignal.timeout(10_000)
    )
  }
  return { run, holders, tally }
}

beforeEach(() => {
  sides = new Map([
    [A, side(A)],
    [B, side(B)]
  ])
})

afterEach(async () => {
  for (const s of sides.values()) {
    s.entries.close()
    await s.dht.close()
  }
})

describe('keyspace regions', () => {
  it('regions by prefix: bounds, the prefix sent, leaves, and the size rule', () => {
    const p = keyPosition(key(1))
    const r = regionOf(p, 5)
    expect(r.lo[0]).toBe(p[0]! & 0xf8)
    expect(r.hi[0]).toBe((p[0]! & 0xf8) + 8 === 256 ? 0 : (p[0]! & 0xf8) + 8)
    expect(regionFromPrefix(prefixBytes(r), 5)).toEqual(r)
    // bits set past the prefix length: not a region
    expect(regionFromPrefix(new Uint8Array([0xff]), 5)).toBeUndefined()
    expect(regionEnd(new Uint8Array(32).fill(0xff), 8).every((b) => b === 0)).toBe(true)
    expect(leafOf(new Uint8Array([0b10110000, ...new Array(31).fill(0)]), 1, 3)).toBe(0b011)
    // keys held / 2^bits <= regionKeys, and a region holds about 8 peers or fewer
    expect(regionBits(100, 5, 256)).toBe(0)
    expect(regionBits(100_000, 5, 256)).toBe(9)
    expect(regionBits(100_000, 5, 1024)).toBe(7)
    expect(regionBits(100, 1000, 256)).toBe(7)
  })
})

describe('anti-entropy sync between two holders', () => {
  it('transfers only what differs, then a summary alone confirms both', async () => {
    const a = sides.get(A)!
    const b = sides.get(B)!
    for (let i = 0; i < 300; i++) await pin(a, key(i), value(i, 2))
    // B holds 200 of them, 20 of those in an older version
    for (let i = 0; i < 200; i++) await pin(b, key(i), value(i, i < 20 ? 1 : 2))
    const first = exchange(a, b)
    const held = await first.run()
    expect(held).toHaveLength(300)
    for (let i = 0; i < 300; i++) expect(new Uint8Array(b.entries.value(key(i))!)).toEqual(value(i, 2))
    // the 100 missing and the 20 older ones, nothing else
    expect(a.counters.sweepRecordsSent).toBe(120)
    expect(b.counters.sweepRecordsReceived).toBe(120)
    // summary, leaves, records (two batches: at most 64 records a batch)
    expect(first.tally.messages).toBe(4)
    const sentBytes = a.counters.sweepRecordBytesSent
    const missing = [...Array(300).keys()].filter((i) => i < 20 || i >= 200)
    expect(sentBytes).toBe(missing.reduce((n, i) => n + value(i, 2).byteLength, 0))
    // everything on the wire, both ways, within 1.2x the record bytes that were missing
    expect(a.counters.sweepBytesSent + a.counters.sweepBytesReceived).toBeLessThanOrEqual(1.2 * sentBytes)
    expect(b.counters.sweepMessagesReceived).toBe(4)

    // in step now: one summary, matched with a proof of possession, nothing else
    const again = exchange(a, b)
    expect(await again.run()).toHaveLength(300)
    expect(again.tally.messages).toBe(1)
    expect(a.counters.sweepRecordsSent).toBe(120)
    expect(again.holders).toHaveLength(300)
    expect(a.penalties).toEqual([])
    expect(b.penalties).toEqual([])
  })

  it('an unchanged region matched again soon: one message, no holder recorded key by key on either side', async () => {
    const a = sides.get(A)!
    const b = sides.get(B)!
    for (let i = 0; i < 100; i++) {
      await pin(a, key(i), value(i))
      await pin(b, key(i), value(i))
    }
    // every summary is sent (no pass to skip within); holders recorded again after 200 ms
    const ex = new Exchanges({ ...config, protocol: PROTOCOL, passInterval: 0, holderRefresh: 200 })
    const first = exchange(a, b, undefined, ex)
    expect(await first.run()).toHaveLength(100)
    expect(first.holders).toHaveLength(100)
    expect(b.nominated).toHaveLength(100)
    // the same root again: the keys still count as held (their per-key checks wait), nothing is
    // written key by key: not the sender's proofs, not the receiver's candidates
    const soon = exchange(a, b, undefined, ex)
    expect(await soon.run()).toHaveLength(100)
    expect(soon.tally.messages).toBe(1)
    expect(soon.holders).toEqual([])
    expect(b.nominated).toHaveLength(100)
    await new Promise((r) => setTimeout(r, 250))
    const later = exchange(a, b, undefined, ex)
    expect(await later.run()).toHaveLength(100)
    expect(later.holders).toHaveLength(100)
    // a changed region is another root: every key's holder is recorded at once, on both sides
    await pin(a, key(100), value(100))
    await pin(b, key(100), value(100))
    const changed = exchange(a, b, undefined, ex)
    expect(await changed.run()).toHaveLength(101)
    expect(changed.holders).toHaveLength(101)
    expect(b.nominated).toHaveLength(201)
    // a sender that left and came back is named again on its next match
    b.handler.forget(A)
    await exchange(a, b, undefined, ex).run()
    expect(b.nominated).toHaveLength(302)
    expect(a.penalties).toEqual([])
  })

  it('a peer that refuses records (its quota) ends the exchange and is sent none there for a while', async () => {
    const a = sides.get(A)!
    // B takes at most 40 records pushed by A
    const old = sides.get(B)!
    old.entries.close()
    await old.dht.close()
    const b = side(B, { ...defaultConfig, maxRecordsPerPeer: 40 })
    sides.set(B, b)
    for (let i = 0; i < 100; i++) await pin(a, key(i), value(i))
    const ex = new Exchanges({ ...config, protocol: PROTOCOL, passInterval: 1000, holderRefresh: 0 })
    const first = exchange(a, b, undefined, ex)
    expect(await first.run()).toHaveLength(40)
    // summary, leaves, one batch of 64: 40 taken, 24 refused, and the session ends there
    expect(first.tally.messages).toBe(3)
    expect(a.counters.sweepRecordsSent).toBe(40)
    expect(a.counters.sweepRecordsRefused).toBe(24)
    // ended by the receiver's refusal: the records named and not sent are not charged
    expect(b.penalties).toEqual([])

    // within the back-off: the summary alone; keys of matching leaves still count as held
    const soon = exchange(a, b, undefined, ex)
    const held = await soon.run()
    expect(soon.tally.messages).toBe(1)
    expect(a.counters.sweepRegionsHeldBack).toBe(1)
    expect(held.length).toBeLessThanOrEqual(40)
    for (const e of held) expect(b.entries.value(e.key)).toBeDefined()
    expect(a.counters.sweepRecordsSent).toBe(40)

    // after it the records go again (and are refused again: the back-off doubles)
    await new Promise((r) => setTimeout(r, 1100))
    const later = exchange(a, b, undefined, ex)
    await later.run()
    expect(later.tally.messages).toBe(3)
    expect(a.counters.sweepRecordsRefused).toBe(24 + 60)
    await new Promise((r) => setTimeout(r, 1100))
    const doubled = exchange(a, b, undefined, ex)
    await doubled.run()
    expect(doubled.tally.messages).toBe(1)
    expect(a.counters.sweepRecordsSent).toBe(40)
    expect(a.penalties).toEqual([])
    expect(b.penalties).toEqual([])
  })

  it('a peer that claims a matching summary without the values costs it reputation', async () => {
    const a = sides.get(A)!
    const b = sides.get(B)!
    for (let i = 0; i < 20; i++) await pin(a, key(i), value(i))
    // B answers "match" with a proof it could not compute
    const liar = exchange(a, b, async () =>
      encode({ v: 1, ok: true, sync: { match: true, proof: new Uint8Array(32).fill(7) } })
    )
    expect(await liar.run()).toEqual([])
    expect(liar.holders).toEqual([])
    expect(a.penalties).toEqual([[B, 'bogus-provider']])
  })

  it('a value replaced during the exchange leaves the proof unverifiable: nobody is charged', async () => {
    const a = sides.get(A)!
    const b = sides.get(B)!
    for (let i = 0; i < 20; i++) {
      await pin(a, key(i), value(i))
      await pin(b, key(i), value(i))
    }
    // B answers honestly (a match, its proof over the values of the root), but by the time the
    // answer arrives A holds a newer version of every key
    const raced = exchange(a, b, async (body) => {
      const res = await b.server.serve(body, A)
      for (let i = 0; i < 20; i++) await pin(a, key(i), value(i, 2))
      return res
    })
    expect(await raced.run()).toEqual([])
    expect(raced.holders).toEqual([])
    expect(a.penalties).toEqual([])
    expect(b.penalties).toEqual([])
  })

  it('records named in a session but not served cost the sender; one served with other bytes is judged by the rules', async () => {
    const b = sides.get(B)!
    const peers = [A, B]
    const named = [0, 1, 2].map((i) => ({
      key: key(i),
      position: keyPosition(key(i)),
      digest: new Uint8Array(32).fill(i + 1)
    }))
    named.sort((x, y) => Buffer.compare(x.position, y.position))
    const ask = async (body: Uint8Array) => decodeResponse(await b.server.serve(body, A))
    const leaves = decodeSyncResponse(
      'sync-leaves',
      await b.server.serve(
        encodeSyncRequest({
          op: 'sync-leaves',
          prefix: new Uint8Array(0),
          bits: 0,
          peers,
          depth: 0,
          leaves: [[0, packPairs(named)]]
        }),
        A
      )
    )
    expect(leaves.ok).toBe(true)
    const { session, want } = (leaves as { sync: { session: Uint8Array; want: number[] } }).sync
    expect(want).toEqual([0, 1, 2])
    // one record with bytes other than the digest named (the sender's copy moved on to a newer
    // version meanwhile: a valid record), then the end without the other two
    const res = await b.server.serve(
      encodeSyncRequest({
        op: 'sync-records',
        session,
        records: [{ key: named[0]!.key, value: value(9, 2), priority: 0 }],
        final: true
      }),
      A
    )
    expect(decode(res)).toMatchObject({ ok: true, sync: { accepted: 1, refused: [] } })
    expect(u8(b.entries.value(named[0]!.key))).toEqual(value(9, 2))
    // charged once, for the two named and never served
    expect(b.penalties).toEqual([[A, 'bogus-provider']])
    // the session is closed: a late batch names no session (not charged: it may have expired)
    const late = await ask(encodeSyncRequest({ op: 'sync-records', session, records: [], final: true }))
    expect(late).toEqual({ ok: false, code: 'NO_SESSION', reason: REFUSAL_TEXT.NO_SESSION })
    expect(b.penalties).toHaveLength(1)
  })
})

describe('the sync edge', () => {
  const refused = (code: keyof typeof REFUSAL_TEXT) => ({ ok: false, code, reason: REFUSAL_TEXT[code] })

  it('refuses ill-formed and oversized sync messages with a fixed text, and charges the sender', async () => {
    const b = sides.get(B)!
    const ask = async (msg: Record<string, unknown>) =>
      decodeResponse(await b.server.serve(encode({ v: 1, ...msg }), A))
    const scope = { prefix: new Uint8Array(0), bits: 0, depth: 0, peers: [A, B] }
    const summary = { op: 'sync', ...scope, count: 0, root: new Uint8Array(32), nonce: new Uint8Array(32) }
    const bad = [
      { ...summary, peers: Array.from({ length: 33 }, () => MARKER) },
      { ...summary, bits: 33, prefix: new Uint8Array(5) },
      { ...summary, depth: 11 },
      { ...summary, count: MAX_SYNC_KEYS + 1 },
      { ...summary, root: MARKER },
      { op: 'sync-leaves', ...scope, leaves: [[0, new Uint8Array(64 * (MAX_SYNC_KEYS + 1))]] },
      { op: 'sync-leaves', ...scope, leaves: [[1, new Uint8Array(64)]] },
      { op: 'sync-records', session: new Uint8Array(16), records: [[MARKER, 'x', 0]], final: true },
      {
        op: 'sync-records',
        session: new Uint8Array(16),
        records: new Array(MAX_SYNC_KEYS + 1).fill(['/k', new Uint8Array(1), 0])
      }
    ]
    for (const msg of bad) {
      const res = await ask(msg)
      expect(res).toEqual(refused('MALFORMED_REQUEST'))
      expect(JSON.stringify(res)).not.toContain(MARKER)
    }
    expect(b.penalties).toEqual(bad.map(() => [A, 'invalid-message']))
    // a pair outside the leaf it is listed under: decoded, then refused by the handler, charged
    const p = keyPosition(key(1))
    const wrongLeaf = (p[0]! >> 7) ^ 1
    const res = await ask({
      op: 'sync-leaves',
      ...scope,
      depth: 1,
      leaves: [[wrongLeaf, packPairs([{ position: p, digest: new Uint8Array(32) }])]]
    })
    expect(res).toEqual(refused('MALFORMED_REQUEST'))
    expect(b.penalties).toHaveLength(bad.length + 1)
    // a receiver not in the named peer set is not a target (no charge: views differ)
    expect(await ask({ ...summary, peers: [A] })).toEqual(refused('NOT_A_TARGET'))
    expect(b.penalties).toHaveLength(bad.length + 1)
  })

  it('rate-limits sync messages per peer and charges a flood', async () => {
    const b = sides.get(B)!
    const body = encodeSyncRequest({
      op: 'sync',
      prefix: new Uint8Array(0),
      bits: 0,
      depth: 0,
      peers: [A, B],
      count: 0,
      root: new Uint8Array(32),
      nonce: new Uint8Array(32)
    })
    const codes: string[] = []
    for (let i = 0; i < 210; i++) {
      const res = decodeResponse(await b.server.serve(body, A))
      codes.push(res.ok ? 'ok' : res.code)
    }
    // the burst (50 here), then BUSY without a charge for half the burst more, then a flood
    // (the buckets refill at 1 and 0.5 a second while the loop runs: a token or two of slack)
    const count = (code: string): number => codes.filter((c) => c === code).length
    expect(count('ok')).toBeGreaterThanOrEqual(50)
    expect(count('ok')).toBeLessThanOrEqual(52)
    expect(count('BUSY')).toBeGreaterThanOrEqual(25)
    expect(count('BUSY')).toBeLessThanOrEqual(27)
    expect(codes.slice(0, 50).every((c) => c === 'ok')).toBe(true)
    expect(count('RATE_LIMITED')).toBeGreaterThanOrEqual(130)
    expect(codes.at(-1)).toBe('RATE_LIMITED')
    expect(b.penalties.filter(([, r]) => r === 'flood')).toHaveLength(count('RATE_LIMITED'))
  })
})
