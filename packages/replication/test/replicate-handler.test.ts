/**
 * The replicate protocol's server and handlers without a network: a local DHT as the node's
 * record store, an entry store (in memory, or on disk to reopen it), and the request bytes a
 * peer would send.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@chorus/common'
import { createLocalDHT, type LocalDHT, StaleRecordError, sortByDistance } from '@chorus/dht'
import { encode } from 'cborg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  selectTestRecord,
  successionTestRecord,
  testAuthorKey,
  testRecord,
  testRecords,
  validateTestRecord,
  versionedRecord
} from '../bench/cluster.ts'
import type { EquivocationEvent, ReplicationPenalty } from '../src/api.js'
import { type ReplicationConfig, replicationDefaults } from '../src/config.js'
import { ContentEntries, newEntry } from '../src/entries.js'
import { createCounters } from '../src/metrics.js'
import { possessionProof, valueDigest } from '../src/proof.js'
import {
  decodeResponse,
  encodePing,
  encodeProve,
  encodeRequest,
  parseRequest,
  REFUSAL_TEXT,
  REQUEST_OVERHEAD_BYTES,
  type ReplicateResponse
} from '../src/protocol.js'
import { withinQuota } from '../src/quota.js'
import { handleProve } from '../src/rpc/handlers/prove.js'
import {
  adoptStored,
  handleReplicate,
  type ReplicateHandlerComponents
} from '../src/rpc/handlers/replicate.js'
import { ReplicateServer } from '../src/rpc/index.js'
import { RecordValues } from '../src/values.js'

const SELF = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const SENDER = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
const OTHER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const MORE = [
  '12D3KooWLBQaYXfZKvKd5M5Ao9hXCP4tJmGzwp8ReZTTuwF2JuS8',
  '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
]
const MAX = 1024
/** Text that must never come back in a refusal. */
const MARKER = 'secret-marker-7f3a'

let dht: LocalDHT
let entries: ContentEntries
let started: boolean
let server: ReplicateServer
let counters = createCounters()
let touched: Array<[string, string]>
let pinned: string[]
let penalties: Array<[string, ReplicationPenalty]>
let equivocations: EquivocationEvent[]
let validations: number
let connected: string[]
let wakes: number
let handled: { protocol: string; maxRequestBytes: number | undefined } | undefined
let dirs: string[] = []
let components: ReplicateHandlerComponents
let config: ReplicationConfig

type Init = Partial<ReplicationConfig>

function build(overrides: Partial<ReplicateHandlerComponents> = {}, init: Init = {}): void {
  config = { ...replicationDefaults, ...init }
  const validate = (key: Uint8Array, value: Uint8Array) => {
    validations++
    validateTestRecord(key, value)
  }
  const values = new RecordValues({ dht, validate }, config)
  const penalise = (peer: string, reason: ReplicationPenalty) => penalties.push([peer, reason])
  components = {
    entries,
    dht,
    values,
    select: selectTestRecord,
    succession: successionTestRecord,
    peerId: SELF,
    connected: () => connected,
    isStarted: () => started,
    nominate: (key, peers) => {
      for (const peer of peers) touched.push([key, peer])
    },
    noteLive: () => {},
    pinned: (e) => pinned.push(e.key),
    equivocation: (e) => equivocations.push(e),
    penalise,
    wake: () => {
      wakes++
    },
    counters,
    log: silentLogger,
    ...overrides
  }
  server = new ReplicateServer(
    {
      messaging: {
        handle: async (protocol, _handler, options) => {
          handled = { protocol, maxRequestBytes: options?.maxRequestBytes }
        },
        unhandle: async () => {}
      },
      isStarted: () => started,
      replicate: (req, from) => handleReplicate(components, config, req, from),
      prove: (req) => handleProve({ entries }, req),
      heldBytes: (key) => (entries.holds(key) ? (entries.value(key)?.byteLength ?? 0) : 0),
      penalise,
      counters,
      log: silentLogger
    },
    { ...config, protocol: '/CHORUS/replicate/1.0.0', maxRecordBytes: MAX }
  )
}

const ask = async (body: Uint8Array, from = SENDER): Promise<ReplicateResponse> =>
  decodeResponse(await server.serve(body, from))
const push = (key: string, value: Uint8Array, holders?: string[], from = SENDER) =>
  ask(encodeRequest({ key, value, priority: 1, ...(holders ? { holders } : {}) }), from)
const refused = (code: keyof typeof REFUSAL_TEXT) => ({ ok: false, code, reason: REFUSAL_TEXT[code] })
const pinnedValue = (key: string) => {
  const v = entries.value(key)
  return v == null ? undefined : new Uint8Array(v)
}

/** A key for which at least `n` of `peers` are closer than SELF. */
function keyWithCloser(peers: string[], n: number): string {
  for (let i = 0; ; i++) {
    const key = `/CHORUS/test/far-${i}`
    if (sortByDistance(key, [SELF, ...peers]).indexOf(SELF) >= n) return key
  }
}

beforeEach(() => {
  dht = createLocalDHT({ records: testRecords, peerId: SELF })
  entries = new ContentEntries({ dataDir: undefined, config: replicationDefaults })
  entries.open()
  started = true
  counters = createCounters()
  touched = []
  pinned = []
  penalties = []
  equivocations = []
  validations = 0
  connected = []
  wakes = 0
  build()
})

afterEach(async () => {
  entries.close()
  await dht.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs = []
})

describe('the replicate edge (parseRequest)', () => {
  it('decodes once and bounds the value, the key and the proof fields', () => {
    expect(parseRequest(encodePing(), MAX)).toEqual({ op: 'ping' })
    expect(parseRequest(new Uint8Array([0xa1, 0x01]), MAX)).toEqual(refused('MALFORMED_REQUEST'))
    expect(
      parseRequest(encodeRequest({ key: '/CHORUS/k', value: new Uint8Array(MAX + 1), priority: 0 }), MAX)
    ).toEqual(refused('TOO_LARGE'))
    expect(
      parseRequest(encodeRequest({ key: '/CHORUS/k', value: new Uint8Array(MAX), priority: 2 }), MAX)
    ).toMatchObject({
      op: 'replicate',
      key: '/CHORUS/k',
      priority: 2
    })
    expect(
      parseRequest(encodeRequest({ key: `/${'k'.repeat(1024)}`, value: new Uint8Array(1), priority: 0 }), MAX)
    ).toEqual(refused('MALFORMED_REQUEST'))
    const nonce = new Uint8Array(32)
    const digest = new Uint8Array(32)
    expect(parseRequest(encodeProve({ key: '/CHORUS/k', nonce, digest }), MAX)).toEqual({
      op: 'prove',
      key: '/CHORUS/k',
      nonce,
      digest
    })
    expect(parseRequest(encodeProve({ key: '/CHORUS/k', nonce: new Uint8Array(8), digest }), MAX)).toEqual(
      refused('MALFORMED_REQUEST')
    )
    expect(parseRequest(encode({ v: 1, op: 'prove', key: '/CHORUS/k', nonce, digest: 'x' }), MAX)).toEqual(
      refused('MALFORMED_REQUEST')
    )
  })
})

describe('ReplicateServer', () => {
  it('serves the protocol with the request limit of the largest record plus overhead', async () => {
    await server.start()
    expect(handled).toEqual({
      protocol: '/CHORUS/replicate/1.0.0',
      maxRequestBytes: MAX + REQUEST_OVERHEAD_BYTES
    })
  })

  it('refuses malformed, oversized and invalid requests with fixed texts, and pins nothing', async () => {
    const responses = [
      await ask(new Uint8Array([0xff, 0x00])),
      await ask(encode({ v: 1, op: `delete-${MARKER}`, key: '/a/b' })),
      await ask(encode({ v: 1, key: '/CHORUS/k', value: new Uint8Array(1), holders: MARKER })),
      await push('/CHORUS/big', testRecord('x'.repeat(MAX))),
      await push('/CHORUS/bad', new TextEncoder().encode(`no magic ${MARKER}`))
    ]
    expect(responses).toEqual([
      refused('MALFORMED_REQUEST'),
      refused('MALFORMED_REQUEST'),
      refused('MALFORMED_REQUEST'),
      refused('TOO_LARGE'),
      refused('INVALID_RECORD')
    ])
    // the raw bytes sent back echo neither the input nor the validator's message
    for (const body of [
      await server.serve(encode({ v: 1, op: `delete-${MARKER}`, key: '/a/b' }), SENDER),
      await server.serve(
        encodeRequest({ key: '/CHORUS/bad2', value: new TextEncoder().encode(MARKER), priority: 1 }),
        SENDER
      )
    ]) {
      const text = Buffer.from(body).toString('latin1')
      expect(text).not.toContain(MARKER)
      expect(text).not.toMatch(/CHR1 magic/)
    }
    expect(counters.replicasRefused).toBe(7)
    expect(entries.keys()).toEqual([])
    await expect(dht.getValue('/CHORUS/bad', { localOnly: true })).rejects.toThrow()
    expect(pinned).toEqual([])
    // three undecodable requests, two invalid records; an oversized one is not an offence
    expect(penalties).toEqual([
      [SENDER, 'invalid-message'],
      [SENDER, 'invalid-message'],
      [SENDER, 'invalid-message'],
      [SENDER, 'invalid-record'],
      [SENDER, 'invalid-message'],
      [SENDER, 'invalid-record']
    ])
  })

  it('answers a ping without touching the store', async () => {
    expect(await ask(encodePing())).toEqual({ ok: true })
    expect(entries.keys()).toEqual([])
  })

  it('refuses a retired (deleted) key as stale, at no cost to the sender, and pins nothing', async () => {
    const retired = new Set(['/CHORUS/test/deleted'])
    build({ retired })
    expect(await push('/CHORUS/test/deleted', testRecord('old version'))).toEqual(refused('STALE'))
    expect(penalties).toEqual([])
    expect(pinned).toEqual([])
    expect(validations).toBe(0)
    // the same push is taken once the key is no longer retired
    retired.clear()
    expect((await push('/CHORUS/test/deleted', testRecord('old version'))).ok).toBe(true)
    expect(pinned).toEqual(['/CHORUS/test/deleted'])
  })

  it('refuses everything while the manager is not running', async () => {
    started = false
    expect(await ask(encodePing())).toEqual(refused('NOT_ACCEPTING'))
    expect(await push('/CHORUS/k', testRecord('v'))).toEqual(refused('NOT_ACCEPTING'))
  })

  it('refuses pushes over the per-peer byte budget before any validation, under the request rate', async () => {
    build({}, { byteRateLimit: { burst: 1000, ratePerSecond: 0.001 } })
    const big = (n: string) => testRecord(n.repeat(400))
    expect(await push('/CHORUS/b1', big('1'))).toEqual({ ok: true })
    expect(await push('/CHORUS/b2', big('2'))).toEqual({ ok: true })
    expect(validations).toBe(2)
    // a third 400-byte value is over the 1000-byte budget: BUSY, not validated, no penalty
    expect(await push('/CHORUS/b3', big('3'))).toEqual(refused('BUSY'))
    expect(validations).toBe(2)
    expect(penalties).toEqual([])
    // small values still fit what is left; another peer has its own budget
    expect(await push('/CHORUS/b4', testRecord('4'))).toEqual({ ok: true })
    expect(await push('/CHORUS/b5', big('5'), undefined, OTHER)).toEqual({ ok: true })
    // a sender that keeps pushing past its BUSY allowance (half the budget) is a flood: refused, charged
    expect(await push('/CHORUS/f1', big('6'))).toEqual(refused('RATE_LIMITED'))
    expect(validations).toBe(4)
    expect(penalties).toEqual([[SENDER, 'flood']])
  })

  it('answers BUSY over the per-peer rate, and refuses and charges a sender that ignores it', async () => {
    build({}, { pushRateLimit: { burst: 2, ratePerSecond: 0.001 } })
    expect(await push('/CHORUS/r1', testRecord('1'))).toEqual({ ok: true })
    expect(await push('/CHORUS/r2', testRecord('2'))).toEqual({ ok: true })
    expect(validations).toBe(2)
    // over the rate: slowed down, not validated, not charged (an honest writer storing fast)
    expect(await push('/CHORUS/r3', testRecord('3'))).toEqual(refused('BUSY'))
    expect(validations).toBe(2)
    expect(entries.has('/CHORUS/r3')).toBe(false)
    expect(penalties).toEqual([])
    // it ignored BUSY past its allowance (half the burst of 2): a flood, refused and charged
    expect(await push('/CHORUS/r-flood', testRecord('f'))).toEqual(refused('RATE_LIMITED'))
    expect(penalties).toEqual([[SENDER, 'flood']])
    // another peer has its own bucket; proofs have theirs
    expect(await push('/CHORUS/r4', testRecord('4'), undefined, OTHER)).toEqual({ ok: true })
    const prove = encodeProve({
      key: '/CHORUS/r1',
      nonce: new Uint8Array(32),
      digest: valueDigest(testRecord('1'))
    })
    expect(await ask(prove)).toMatchObject({ ok: true })
  })
})

describe('handleReplicate', () => {
  it('pins a valid record, serves it from the record store and records sender and co-holders as candidates', async () => {
    expect(await push('/CHORUS/good', testRecord('good'), [OTHER, SELF])).toEqual({ ok: true })
    expect(pinnedValue('/CHORUS/good')).toEqual(testRecord('good'))
    expect(new Uint8Array(await dht.getValue('/CHORUS/good', { localOnly: true }))).toEqual(
      testRecord('good')
    )
    expect(entries.get('/CHORUS/good')).toMatchObject({
      pinned: true,
      origin: 'replica',
      priority: 1,
      pushedBy: SENDER
    })
    expect(touched).toEqual([
      ['/CHORUS/good', SENDER],
      ['/CHORUS/good', OTHER]
    ])
    expect(pinned).toEqual(['/CHORUS/good'])
    expect(wakes).toBe(1)
    // the same value again changes nothing and is not announced as pinned again
    expect(await push('/CHORUS/good', testRecord('good'))).toEqual({ ok: true })
    expect(pinned).toEqual(['/CHORUS/good'])
  })

  it('never replaces a newer pinned version with an older one (selector, without succession)', async () => {
    build({ succession: undefined })
    await push('/CHORUS/v', testRecord('bbb'))
    expect(await push('/CHORUS/v', testRecord('aaa'))).toEqual(refused('STALE'))
    expect(pinnedValue('/CHORUS/v')).toEqual(testRecord('bbb'))
    expect(await push('/CHORUS/v', testRecord('ccc'))).toEqual({ ok: true })
    expect(pinnedValue('/CHORUS/v')).toEqual(testRecord('ccc'))
    expect(penalties).toEqual([])
  })

  it('pins the record store version when the store refuses the pushed one as stale', async () => {
    await dht.putValue('/CHORUS/newer', testRecord('zzz'))
    build({
      dht: {
        putValue: async (key) => {
          throw new StaleRecordError(key)
        }
      }
    })
    expect(await push('/CHORUS/newer', testRecord('mmm'))).toEqual(refused('STALE'))
    expect(pinnedValue('/CHORUS/newer')).toEqual(testRecord('zzz'))
  })

  it('refuses with STORE_FAILED, without the store error, when the record store fails otherwise', async () => {
    build({
      dht: {
        putValue: async () => {
          throw new Error(`disk full ${MARKER}`)
        }
      }
    })
    expect(await push('/CHORUS/k', testRecord('v'))).toEqual(refused('STORE_FAILED'))
    expect(entries.keys()).toEqual([])
  })

  it('refuses when the manager stopped while the record was being stored', async () => {
    build({
      dht: {
        putValue: async (key, value) => {
          started = false
          return dht.putValue(key, value)
        }
      }
    })
    expect(await push('/CHORUS/k', testRecord('v'))).toEqual(refused('NOT_ACCEPTING'))
    expect(entries.keys()).toEqual([])
  })
})

describe('succession', () => {
  const key = '/CHORUS/test/chain'

  it('replaces a pin only by a valid successor; stale and equivocating pushes keep it', async () => {
    expect(await push(key, versionedRecord('alice', 2, 'two'))).toEqual({ ok: true })
    expect(await push(key, versionedRecord('alice', 1, 'one'))).toEqual(refused('STALE'))
    expect(await push(key, versionedRecord('mallory', 9, 'nine'))).toEqual(refused('STALE'))
    expect(pinnedValue(key)).toEqual(versionedRecord('alice', 2, 'two'))
    expect(await push(key, versionedRecord('alice', 2, 'forked'))).toEqual(refused('EQUIVOCATION'))
    expect(pinnedValue(key)).toEqual(versionedRecord('alice', 2, 'two'))
    expect(counters.equivocations).toBe(1)
    expect(equivocations).toEqual([{ key, authorKey: testAuthorKey('alice'), from: SENDER }])
    // stale and equivocating pushes cost the relaying peer nothing
    expect(penalties).toEqual([])
    expect(await push(key, versionedRecord('alice', 3, 'three'))).toEqual({ ok: true })
    expect(pinnedValue(key)).toEqual(versionedRecord('alice', 3, 'three'))
    expect(new Uint8Array(await dht.getValue(key, { localOnly: true }))).toEqual(
      versionedRecord('alice', 3, 'three')
    )
  })

  it("never lets a push replace this node's own pin, without succession or selector either", async () => {
    const own = versionedRecord('alice', 2, 'own')
    await dht.putValue(key, own, { localOnly: true })
    const entry = newEntry(
      { key, size: own.byteLength, priority: 1, createdAt: Date.now(), pinned: true, origin: 'local' },
      { nextRepairAt: 0, nextProvideAt: 0, nextRepublishAt: 0 }
    )
    entries.set(entry, own)
    build({ succession: undefined, select: undefined })
    expect(await push(key, versionedRecord('alice', 5, 'pushed'))).toEqual(refused('STALE'))
    expect(pinnedValue(key)).toEqual(own)
    // a replica pin, by contrast, takes the pushed value when nothing can judge
    expect(await push('/CHORUS/test/replica', testRecord('a'))).toEqual({ ok: true })
    expect(await push('/CHORUS/test/replica', testRecord('0'))).toEqual({ ok: true })
    expect(pinnedValue('/CHORUS/test/replica')).toEqual(testRecord('0'))
  })
})

describe('only records this node should hold', () => {
  const tight = { replicationFactor: 1, holderSlack: 1 }

  it('refuses a new key when factor + slack connected peers are closer, before any validation', async () => {
    const peers = [SENDER, OTHER, ...MORE]
    const key = keyWithCloser(peers, 2)
    connected = peers
    build({}, tight)
    expect(await push(key, testRecord(MARKER))).toEqual(refused('NOT_A_TARGET'))
    expect(validations).toBe(0)
    expect(entries.has(key)).toBe(false)
    await expect(dht.getValue(key, { localOnly: true })).rejects.toThrow()
    expect(penalties).toEqual([])
    // with only one closer peer connected, this node is within factor + slack and takes it
    const rank = sortByDistance(key, [SELF, ...peers]).indexOf(SELF)
    const closer = sortByDistance(key, peers).slice(0, rank - 1)
    connected = peers.filter((p) => !closer.includes(p))
    expect(sortByDistance(key, [SELF, ...connected]).indexOf(SELF)).toBe(1)
    expect(await push(key, testRecord('in'))).toEqual({ ok: true })
  })

  it('judges a push for a key it already holds by succession only', async () => {
    const peers = [SENDER, OTHER, ...MORE]
    const key = keyWithCloser(peers, 2)
    expect(await push(key, versionedRecord('alice', 1, 'one'))).toEqual({ ok: true })
    connected = peers
    build({}, tight)
    expect(await push(key, versionedRecord('alice', 2, 'two'))).toEqual({ ok: true })
    expect(pinnedValue(key)).toEqual(versionedRecord('alice', 2, 'two'))
  })
})

describe('adoptStored (a record the storage direct push stored)', () => {
  const adopt = (key: string, value: Uint8Array, from = SENDER) =>
    adoptStored(components, config, key, value, from)

  it('pins it as a replica without validating or storing it again, due later, sender a candidate', async () => {
    const before = Date.now()
    expect(adopt('/CHORUS/pushed', testRecord('pushed'))).toBe(true)
    expect(validations).toBe(0)
    // the direct push stored it, not this call
    await expect(dht.getValue('/CHORUS/pushed', { localOnly: true })).rejects.toThrow()
    const entry = entries.get('/CHORUS/pushed')
    expect(entry).toMatchObject({ pinned: true, origin: 'replica', pushedBy: SENDER })
    expect(pinnedValue('/CHORUS/pushed')).toEqual(testRecord('pushed'))
    // the sender noted this node as a provider: announcement and check come due later, not at once
    expect(entry?.nextProvideAt).toBeGreaterThan(before)
    expect(entry?.nextRepairAt).toBeGreaterThan(before)
    expect(touched).toEqual([['/CHORUS/pushed', SENDER]])
    expect(pinned).toEqual(['/CHORUS/pushed'])
    // the same bytes again only refresh the candidate
    expect(adopt('/CHORUS/pushed', testRecord('pushed'), OTHER)).toBe(true)
    expect(pinned).toEqual(['/CHORUS/pushed'])
  })

  it('takes a new key only among the target number of closest peers and within the quota', () => {
    const peers = [SENDER, OTHER, ...MORE]
    connected = peers
    build({}, { replicationFactor: 2, holderSlack: 2 })
    // among factor + slack but not among factor: a spare of the push, not kept pinned
    const key = keyWithCloser(peers, 2)
    expect(sortByDistance(key, [SELF, ...peers]).indexOf(SELF)).toBeLessThan(2 + 2)
    expect(adopt(key, testRecord('spare'))).toBe(false)
    expect(entries.has(key)).toBe(false)
    build({}, { maxRecordsPerPeer: 1 })
    connected = []
    expect(adopt('/CHORUS/q1', testRecord('one'))).toBe(true)
    expect(adopt('/CHORUS/q2', testRecord('two'))).toBe(false)
  })

  it("never touches a key this node's application stored, a retired key, or anything while stopped", () => {
    entries.set(
      newEntry(
        { key: '/CHORUS/mine', size: 3, priority: 1, createdAt: Date.now(), pinned: true, origin: 'local' },
        { nextRepairAt: 0, nextProvideAt: 0, nextRepublishAt: 0 }
      ),
      testRecord('mine')
    )
    expect(adopt('/CHORUS/mine', testRecord('other'))).toBe(false)
    expect(pinnedValue('/CHORUS/mine')).toEqual(testRecord('mine'))
    build({ retired: { has: (k) => k === '/CHORUS/gone' } })
    expect(adopt('/CHORUS/gone', testRecord('gone'))).toBe(false)
    started = false
    expect(adopt('/CHORUS/later', testRecord('later'))).toBe(false)
    expect(pinned).toEqual([])
  })
})

describe('per-peer quotas', () => {
  it("by default fit an honest writer's 100,000 stores of 1 KiB on a peer that should hold 60 % of them", () => {
    // each store is two records (its version and its head, each the whole envelope); factor 3 on
    // five nodes; 1 KiB of content is about 2.2 KiB encrypted and signed: 120,000 records, 276 MB
    const [share, recordBytes] = [120_000, 2_300]
    const usage = { records: share - 1, bytes: (share - 1) * recordBytes }
    expect(withinQuota(usage, usage, recordBytes, replicationDefaults)).toBe(true)
    // and the node's budget holds the same from four such writers
    const four = { records: 4 * share, bytes: 4 * share * recordBytes }
    expect(withinQuota(usage, four, recordBytes, replicationDefaults)).toBe(true)
  })

  it('limits the records a peer made this node pin, before any validation', async () => {
    build({}, { maxRecordsPerPeer: 2 })
    expect(await push('/CHORUS/q1', testRecord('1'))).toEqual({ ok: true })
    expect(await push('/CHORUS/q2', testRecord('2'))).toEqual({ ok: true })
    expect(validations).toBe(2)
    expect(await push('/CHORUS/q3', testRecord(MARKER))).toEqual(refused('QUOTA'))
    expect(validations).toBe(2)
    expect(entries.has('/CHORUS/q3')).toBe(false)
    // updates of keys it pushed are not new records; another peer has its own quota
    expect(await push('/CHORUS/q1', testRecord('9'))).toEqual({ ok: true })
    expect(await push('/CHORUS/q3', testRecord('3'), undefined, OTHER)).toEqual({ ok: true })
    expect(entries.usageOf(SENDER).records).toBe(2)
    // a key the application adopts no longer counts against the peer
    const adopted = entries.get('/CHORUS/q2')!
    entries.set({ ...adopted, origin: 'local', pushedBy: undefined })
    expect(await push('/CHORUS/q4', testRecord('4'))).toEqual({ ok: true })
  })

  it('holds against concurrent pushes of new keys', async () => {
    build({}, { maxRecordsPerPeer: 2 })
    const keys = ['/CHORUS/c1', '/CHORUS/c2', '/CHORUS/c3', '/CHORUS/c4']
    const res = await Promise.all(keys.map((k) => push(k, testRecord(k))))
    expect(res.filter((r) => r.ok)).toHaveLength(2)
    expect(res.filter((r) => !r.ok)).toEqual([refused('QUOTA'), refused('QUOTA')])
    expect(entries.usageOf(SENDER).records).toBe(2)
  })

  it('limits the bytes, and the tally survives a reopen of the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-quota-'))
    dirs.push(dir)
    entries.close()
    entries = new ContentEntries({ dataDir: dir, config: replicationDefaults })
    entries.open()
    const v = testRecord('x'.repeat(100))
    build({}, { maxBytesPerPeer: 2 * v.byteLength + 10 })
    expect(await push('/CHORUS/b1', v)).toEqual({ ok: true })
    expect(await push('/CHORUS/b2', v)).toEqual({ ok: true })
    expect(await push('/CHORUS/b3', v)).toEqual(refused('QUOTA'))
    expect(entries.usageOf(SENDER)).toEqual({ records: 2, bytes: 2 * v.byteLength })
    entries.close()
    entries = new ContentEntries({ dataDir: dir, config: replicationDefaults })
    entries.open()
    build({}, { maxBytesPerPeer: 2 * v.byteLength + 10 })
    expect(entries.usageOf(SENDER)).toEqual({ records: 2, bytes: 2 * v.byteLength })
    expect(await push('/CHORUS/b3', v)).toEqual(refused('QUOTA'))
    entries.delete('/CHORUS/b1')
    expect(await push('/CHORUS/b3', v)).toEqual({ ok: true })
  })
})

describe('the node-wide budget', () => {
  it('limits the bytes pinned for all peers together, each within its own quota', async () => {
    const v = testRecord('y'.repeat(100))
    build({}, { maxPinnedBytes: 3 * v.byteLength + 10 })
    expect(await push('/CHORUS/t1', v)).toEqual({ ok: true })
    expect(await push('/CHORUS/t2', v, undefined, OTHER)).toEqual({ ok: true })
    expect(await push('/CHORUS/t3', v)).toEqual({ ok: true })
    expect(await push('/CHORUS/t4', v, undefined, OTHER)).toEqual(refused('QUOTA'))
    expect(entries.has('/CHORUS/t4')).toBe(false)
    expect(entries.totalUsage()).toEqual({ records: 3, bytes: 3 * v.byteLength })
    // room again once a record leaves
    entries.delete('/CHORUS/t1')
    expect(await push('/CHORUS/t4', v, undefined, OTHER)).toEqual({ ok: true })
  })
})

describe('handleProve', () => {
  it('proves possession of the pinned value only', async () => {
    const key = '/CHORUS/test/proved'
    const value = testRecord('held')
    const nonce = new Uint8Array(32).fill(7)
    const challenge = (digest: Uint8Array) => ask(encodeProve({ key, nonce, digest }))
    expect(await challenge(valueDigest(value))).toEqual(refused('NOT_HELD'))
    await push(key, value)
    expect(await challenge(valueDigest(testRecord('other')))).toEqual(refused('OTHER_VALUE'))
    const res = await challenge(valueDigest(value))
    expect(res).toEqual({ ok: true, proof: possessionProof(nonce, key, value) })
    // a proof is bound to its nonce and its key
    expect(res.ok && res.proof).not.toEqual(possessionProof(new Uint8Array(32), key, value))
    expect(possessionProof(nonce, `${key}x`, value)).not.toEqual(possessionProof(nonce, key, value))
  })

  it('rate-limits proofs per peer and charges a flood', async () => {
    build({}, { proveRateLimit: { burst: 1, ratePerSecond: 0.001 } })
    const prove = encodeProve({ key: '/CHORUS/p', nonce: new Uint8Array(32), digest: new Uint8Array(32) })
    expect(await ask(prove)).toEqual(refused('NOT_HELD'))
    expect(await ask(prove)).toEqual(refused('BUSY'))
    expect(penalties).toEqual([])
    expect(await ask(prove)).toEqual(refused('RATE_LIMITED'))
    expect(penalties).toEqual([[SENDER, 'flood']])
  })
})
