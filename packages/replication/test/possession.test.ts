/**
 * The possession verifier without a network: a verifier over a real store and provider cache,
 * and provers that are real replicate servers (honest holders) or liars, reached through a fake
 * `request` that routes by peer id.
 */
import { randomBytes } from 'node:crypto'
import { silentLogger } from '@chorus/common'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { testRecord } from '../bench/cluster.ts'
import type { ReplicationPenalty } from '../src/api.js'
import { replicationDefaults } from '../src/config.js'
import { ContentEntries, newEntry } from '../src/entries.js'
import { createCounters } from '../src/metrics.js'
import { PossessionVerifier } from '../src/possession.js'
import { encodeResponse } from '../src/protocol.js'
import { ProviderCache } from '../src/providers.js'
import { handleProve } from '../src/rpc/handlers/prove.js'
import { ReplicateServer } from '../src/rpc/index.js'

const SELF = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const HOLDER = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
const EMPTY = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const OLDER = '12D3KooWLBQaYXfZKvKd5M5Ao9hXCP4tJmGzwp8ReZTTuwF2JuS8'
const LIAR = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const KEY = '/CHORUS/test/possession'
const VALUE = testRecord('the value')
const signal = new AbortController().signal

/** A node's pins: what a prover answers from. */
function pins(values: Record<string, Uint8Array>): ContentEntries {
  const e = new ContentEntries({ dataDir: undefined, config: replicationDefaults })
  e.open()
  for (const [key, value] of Object.entries(values)) {
    e.set(
      newEntry(
        { key, size: value.byteLength, priority: 0, createdAt: 0, pinned: true, origin: 'local' },
        { nextRepairAt: 0, nextProvideAt: 0, nextRepublishAt: 0 }
      ),
      value
    )
  }
  return e
}

/** An honest prover: a real replicate server over its pins. */
function prover(entries: ContentEntries): (body: Uint8Array, from: string) => Promise<Uint8Array> {
  const server = new ReplicateServer(
    {
      messaging: { handle: async () => {}, unhandle: async () => {} },
      isStarted: () => true,
      replicate: async () => ({ ok: true }),
      prove: (req) => handleProve({ entries }, req),
      heldBytes: (key) => entries.value(key)?.byteLength ?? 0,
      penalise: () => {},
      counters: createCounters(),
      log: silentLogger
    },
    { ...replicationDefaults, protocol: '/CHORUS/replicate/1.0.0', maxRecordBytes: 1024 }
  )
  return (body, from) => server.serve(body, from)
}

let own: ContentEntries
let stores: ContentEntries[]
let verifier: PossessionVerifier
let penalties: Array<[string, ReplicationPenalty]>
let requests: string[]
let counters: ReturnType<typeof createCounters>
let announced: string[]
let readable: Uint8Array | undefined

function build(proofTTL = replicationDefaults.proofTTL): void {
  const provers: Record<string, (body: Uint8Array, from: string) => Promise<Uint8Array>> = {
    [HOLDER]: prover(track(pins({ [KEY]: VALUE }))),
    [EMPTY]: prover(track(pins({}))),
    [OLDER]: prover(track(pins({ [KEY]: testRecord('an older value') }))),
    // claims to hold anything: answers every challenge with bytes of the right size
    [LIAR]: async () => encodeResponse({ ok: true, proof: new Uint8Array(randomBytes(32)) })
  }
  const store = () => own.store
  const providers = new ProviderCache(
    {
      dht: { findProviders: async () => announced.map((id) => ({ id, multiaddrs: [] })) },
      peerId: SELF,
      store,
      holds: (key) => own.holds(key),
      liveness: { isLive: async () => true, prune: () => {} },
      counters,
      log: silentLogger
    },
    { ...replicationDefaults, proofTTL }
  )
  verifier = new PossessionVerifier(
    {
      messaging: {
        peerId: SELF,
        request: async (peer, _protocol, body) => {
          requests.push(String(peer))
          const answer = provers[String(peer)]
          if (answer == null) throw new Error('unreachable')
          return answer(body, SELF)
        }
      },
      providers,
      entries: own,
      values: { readValid: async () => readable },
      store,
      penalise: (peer, reason) => penalties.push([peer, reason]),
      counters,
      log: silentLogger
    },
    { ...replicationDefaults, proofTTL, protocol: '/CHORUS/replicate/1.0.0' }
  )
}

function track(e: ContentEntries): ContentEntries {
  stores.push(e)
  return e
}

/** Names every prover as a candidate, as a push's holder list does. */
function nameAll(): void {
  for (const p of [HOLDER, EMPTY, OLDER, LIAR]) own.store!.touchProvider(KEY, p, Date.now())
}

const proven = async (network = false) =>
  (await verifier.holders(KEY, signal, network)).filter((p) => p.live && p.proven).map((p) => p.peerId)

beforeEach(() => {
  stores = []
  own = track(pins({ [KEY]: VALUE }))
  penalties = []
  requests = []
  counters = createCounters()
  announced = []
  readable = undefined
  build()
})

afterEach(() => {
  for (const s of stores) s.close()
})

describe('PossessionVerifier', () => {
  it('counts only the candidate that proves the exact value, and reuses its proof', async () => {
    nameAll()
    expect((await proven()).sort()).toEqual([SELF, HOLDER].sort())
    expect(requests.sort()).toEqual([HOLDER, EMPTY, OLDER, LIAR].sort())
    expect(counters).toMatchObject({ proofsRequested: 4, proofsFailed: 3 })
    // named by others and honest about not holding or holding another version: no charge;
    // a wrong proof for the digest it accepted is a lie about itself
    expect(penalties).toEqual([[LIAR, 'bogus-provider']])
    // the one that holds nothing and the liar are forgotten; another version stays a candidate
    expect(
      own
        .store!.providers(KEY)
        .map((r) => r.peer)
        .sort()
    ).toEqual([HOLDER, OLDER].sort())
    // within proofTTL the proof counts without a new challenge, and failures are not retried
    requests = []
    nameAll()
    expect((await proven()).sort()).toEqual([SELF, HOLDER].sort())
    expect(requests).toEqual([])
    expect(penalties).toHaveLength(1)
  })

  it('charges a peer that announced itself as a provider and cannot prove it', async () => {
    announced = [EMPTY, HOLDER]
    expect((await proven(true)).sort()).toEqual([SELF, HOLDER].sort())
    expect(penalties).toEqual([[EMPTY, 'bogus-provider']])
    expect(own.store!.providers(KEY).map((r) => r.peer)).toEqual([HOLDER])
  })

  it('challenges again once a proof is older than proofTTL, or is for another value', async () => {
    build(50)
    own.store!.touchProvider(KEY, HOLDER, Date.now())
    expect(await proven()).toContain(HOLDER)
    requests = []
    await new Promise((r) => setTimeout(r, 80))
    expect(await proven()).toContain(HOLDER)
    expect(requests).toEqual([HOLDER])
    // a proof of another value does not count for this one
    own.store!.recordProof(KEY, OLDER, new Uint8Array(32).fill(9), Date.now())
    requests = []
    expect(await proven()).not.toContain(OLDER)
    expect(requests).toEqual([OLDER])
  })

  it('a node that holds nothing proves against the valid value it reads, or counts nobody', async () => {
    own.delete(KEY)
    own.store!.touchProvider(KEY, HOLDER, Date.now())
    expect(await proven()).toEqual([])
    expect(requests).toEqual([])
    readable = VALUE
    expect(await proven()).toEqual([HOLDER])
  })
})
