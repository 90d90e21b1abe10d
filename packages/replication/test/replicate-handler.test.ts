/**
 * The replicate protocol's server and handlers without a network: a local DHT as the node's
 * record store, an in-memory entry store, and the request bytes a peer would send.
 */
import { silentLogger } from '@chorus/common'
import { createLocalDHT, type LocalDHT, StaleRecordError } from '@chorus/dht'
import { encode } from 'cborg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { selectTestRecord, testRecord, testRecords, validateTestRecord } from '../bench/cluster.ts'
import { replicationDefaults } from '../src/config.js'
import { ContentEntries } from '../src/entries.js'
import { createCounters } from '../src/metrics.js'
import {
  decodeResponse,
  encodePing,
  encodeRequest,
  parseRequest,
  REQUEST_OVERHEAD_BYTES,
  type ReplicateResponse
} from '../src/protocol.js'
import { handleReplicate, type ReplicateHandlerComponents } from '../src/rpc/handlers/replicate.js'
import { ReplicateServer } from '../src/rpc/index.js'
import { RecordValues } from '../src/values.js'

const SELF = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const SENDER = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
const OTHER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const MAX = 1024

let dht: LocalDHT
let entries: ContentEntries
let started: boolean
let server: ReplicateServer
const counters = createCounters()
let touched: Array<[string, string]>
let pinned: string[]
let wakes: number
let handled: { protocol: string; maxRequestBytes: number | undefined } | undefined

function build(overrides: Partial<ReplicateHandlerComponents> = {}): void {
  const values = new RecordValues({ dht, validate: validateTestRecord }, replicationDefaults)
  const components: ReplicateHandlerComponents = {
    entries,
    dht,
    values,
    select: selectTestRecord,
    peerId: SELF,
    isStarted: () => started,
    touchProvider: (key, peer) => touched.push([key, peer]),
    noteLive: () => {},
    pinned: (e) => pinned.push(e.key),
    wake: () => {
      wakes++
    },
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
      replicate: (req, from) => handleReplicate(components, replicationDefaults, req, from),
      counters,
      log: silentLogger
    },
    { protocol: '/CHORUS/replicate/1.0.0', maxRecordBytes: MAX }
  )
}

const ask = async (body: Uint8Array, from = SENDER): Promise<ReplicateResponse> =>
  decodeResponse(await server.serve(body, from))
const push = (key: string, value: Uint8Array, holders?: string[]) =>
  ask(encodeRequest({ key, value, priority: 1, ...(holders ? { holders } : {}) }))

beforeEach(() => {
  dht = createLocalDHT({ records: testRecords, peerId: SELF })
  entries = new ContentEntries({ dataDir: undefined, config: replicationDefaults })
  entries.open()
  started = true
  touched = []
  pinned = []
  wakes = 0
  build()
})

afterEach(async () => {
  entries.close()
  await dht.close()
})

describe('the replicate edge (parseRequest)', () => {
  it('decodes once and bounds the value', () => {
    expect(parseRequest(encodePing(), MAX)).toEqual({ op: 'ping' })
    expect(parseRequest(new Uint8Array([0xa1, 0x01]), MAX)).toMatchObject({
      ok: false,
      code: 'MALFORMED_REQUEST'
    })
    expect(
      parseRequest(encodeRequest({ key: '/CHORUS/k', value: new Uint8Array(MAX + 1), priority: 0 }), MAX)
    ).toMatchObject({ ok: false, code: 'TOO_LARGE', reason: expect.stringMatching(/at most 1024/) })
    expect(
      parseRequest(encodeRequest({ key: '/CHORUS/k', value: new Uint8Array(MAX), priority: 2 }), MAX)
    ).toMatchObject({
      op: 'replicate',
      key: '/CHORUS/k',
      priority: 2
    })
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

  it('refuses malformed, oversized and invalid requests, and pins nothing', async () => {
    const refusedBefore = counters.replicasRefused
    expect(await ask(new Uint8Array([0xff, 0x00]))).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' })
    expect(await ask(encode({ v: 1, op: 'delete', key: '/a/b' }))).toMatchObject({
      ok: false,
      code: 'MALFORMED_REQUEST',
      reason: expect.stringMatching(/operation/)
    })
    expect(
      await ask(encode({ v: 1, key: '/CHORUS/k', value: new Uint8Array(1), holders: 'x' }))
    ).toMatchObject({
      ok: false,
      code: 'MALFORMED_REQUEST'
    })
    expect(await push('/CHORUS/big', testRecord('x'.repeat(MAX)))).toMatchObject({
      ok: false,
      code: 'TOO_LARGE'
    })
    const bad = await push('/CHORUS/bad', new TextEncoder().encode('no magic'))
    expect(bad).toMatchObject({
      ok: false,
      code: 'INVALID_RECORD',
      reason: expect.stringMatching(/CHR1 magic/)
    })
    expect(counters.replicasRefused - refusedBefore).toBe(5)
    expect(entries.keys()).toEqual([])
    await expect(dht.getValue('/CHORUS/bad', { localOnly: true })).rejects.toThrow()
    expect(pinned).toEqual([])
  })

  it('answers a ping without touching the store', async () => {
    expect(await ask(encodePing())).toEqual({ ok: true })
    expect(entries.keys()).toEqual([])
  })

  it('refuses everything while the manager is not running', async () => {
    started = false
    expect(await ask(encodePing())).toMatchObject({ ok: false, code: 'NOT_ACCEPTING' })
    expect(await push('/CHORUS/k', testRecord('v'))).toMatchObject({ ok: false, code: 'NOT_ACCEPTING' })
  })
})

describe('handleReplicate', () => {
  it('pins a valid record, serves it from the record store and records sender and co-holders', async () => {
    expect(await push('/CHORUS/good', testRecord('good'), [OTHER, SELF])).toEqual({ ok: true })
    expect(new Uint8Array(entries.value('/CHORUS/good')!)).toEqual(testRecord('good'))
    expect(new Uint8Array(await dht.getValue('/CHORUS/good', { localOnly: true }))).toEqual(
      testRecord('good')
    )
    expect(entries.get('/CHORUS/good')).toMatchObject({ pinned: true, origin: 'replica', priority: 1 })
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

  it('never replaces a newer pinned version with an older one', async () => {
    await push('/CHORUS/v', testRecord('bbb'))
    expect(await push('/CHORUS/v', testRecord('aaa'))).toEqual({ ok: true })
    expect(new Uint8Array(entries.value('/CHORUS/v')!)).toEqual(testRecord('bbb'))
    expect(await push('/CHORUS/v', testRecord('ccc'))).toEqual({ ok: true })
    expect(new Uint8Array(entries.value('/CHORUS/v')!)).toEqual(testRecord('ccc'))
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
    expect(await push('/CHORUS/newer', testRecord('mmm'))).toEqual({ ok: true })
    expect(new Uint8Array(entries.value('/CHORUS/newer')!)).toEqual(testRecord('zzz'))
  })

  it('refuses with STORE_FAILED when the record store fails otherwise', async () => {
    build({
      dht: {
        putValue: async () => {
          throw new Error('disk full')
        }
      }
    })
    expect(await push('/CHORUS/k', testRecord('v'))).toMatchObject({ ok: false, code: 'STORE_FAILED' })
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
    expect(await push('/CHORUS/k', testRecord('v'))).toMatchObject({ ok: false, code: 'NOT_ACCEPTING' })
    expect(entries.keys()).toEqual([])
  })
})
