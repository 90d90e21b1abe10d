import { addressDigest } from '@chorus/ucxl'
import { decode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { headKey, versionKey } from '../src/address.js'
import {
  type BatchItem,
  decodeRequest,
  encodeMessage,
  itemsOf,
  MAX_BATCH_ITEMS,
  MAX_RECORDS,
  PushBatcher,
  type PutResponse,
  parseBatchResponse,
  recordHandler
} from '../src/direct/index.js'
import { BASE, makeSigner, sampleEnvelope, useLocalDHT } from './helpers.js'

// The batched form of the direct record protocol: many stores to one peer in one request, one
// result per store; and the writer's side, which fills a batch only with what load makes wait.
const from = { id: '12D3KooWtest', multiaddrs: [] }
const OK: PutResponse = { ok: true }

describe('a batch request', () => {
  const local = useLocalDHT()

  it('stores each item under all its keys and answers one result per item, a refusal only for its own item', async () => {
    const stored: string[] = []
    const handle = recordHandler(local.dht, { onStored: (key) => stored.push(key) })
    const signer = makeSigner()
    const digest = addressDigest(BASE)
    const v1 = await sampleEnvelope(signer)
    const other = addressDigest(`${BASE}-other`)
    const w1 = await sampleEnvelope(signer, { address: `${BASE}-other` })
    const forged = v1.bytes.slice()
    forged[forged.length - 1]! ^= 1
    const answer = decode(
      await handle(
        encodeMessage({
          op: 'batch',
          items: [
            { keys: [versionKey(digest, 1), headKey(digest)], value: v1.bytes },
            { keys: [versionKey(other, 2)], value: forged },
            { keys: [versionKey(other, 1), headKey(other)], value: w1.bytes }
          ]
        }),
        from
      )
    )
    expect(answer).toEqual({
      results: [
        { ok: true },
        { ok: false, code: 'INVALID_RECORD', error: 'the record failed validation' },
        { ok: true }
      ]
    })
    // the refused item cost nothing to the items after it
    const held = await local.dht.getValues(headKey(other), { localOnly: true })
    expect(Buffer.from(held[0]!.value).equals(w1.bytes)).toBe(true)
    expect(stored.sort()).toEqual(
      [versionKey(digest, 1), headKey(digest), versionKey(other, 1), headKey(other)].sort()
    )
  })

  it('meets the succession rule in the order sent when two items share a key', async () => {
    const handle = recordHandler(local.dht)
    const signer = makeSigner()
    const address = `${BASE}-chain`
    const head = headKey(addressDigest(address))
    const v1 = await sampleEnvelope(signer, { address })
    const v2 = await sampleEnvelope(signer, { address, version: 2, previous: v1.hash })
    const ask = async (...values: Uint8Array[]) =>
      decode(
        await handle(
          encodeMessage({ op: 'batch', items: values.map((value) => ({ keys: [head], value })) }),
          from
        )
      )
    // v1 then v2: both taken, v2 held
    expect(await ask(v1.bytes, v2.bytes)).toEqual({ results: [OK, OK] })
    // the older one after the newer: refused as stale (no fault), the newer stays
    expect(await ask(v2.bytes, v1.bytes)).toEqual({
      results: [OK, { ok: false, code: 'STALE_RECORD', error: 'the record is older than the one held' }]
    })
    const held = await local.dht.getValues(head, { localOnly: true })
    expect(Buffer.from(held[0]!.value).equals(v2.bytes)).toBe(true)
  })

  it('is refused whole, with a fixed text, when out of bounds', async () => {
    const handle = recordHandler(local.dht)
    const value = new Uint8Array(8)
    const refused = { ok: false, code: 'MALFORMED_REQUEST', error: 'malformed request' }
    const ask = async (m: unknown) => decode(await handle(encodeMessage(m), from))
    const item = { keys: ['/CHORUS/ucxl/x'], value }
    expect(await ask({ op: 'batch', items: [] })).toEqual(refused)
    expect(
      await ask({ op: 'batch', items: Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => item) })
    ).toEqual(refused)
    expect(await ask({ op: 'batch', items: [{ keys: [], value }] })).toEqual(refused)
    const tooMany = Array.from({ length: MAX_RECORDS + 1 }, (_, i) => `/CHORUS/ucxl/${i}`)
    expect(await ask({ op: 'batch', items: [{ keys: tooMany, value }] })).toEqual(refused)
    expect(await ask({ op: 'batch', items: [{ keys: ['x'.repeat(5000)], value }] })).toEqual(refused)
    expect(await ask({ op: 'batch', items: [{ keys: [7], value }] })).toEqual(refused)
    expect(await ask({ op: 'batch', items: [{ keys: ['/k'], value: 'text' }] })).toEqual(refused)
    // a key named twice is one key
    expect(decodeRequest(encodeMessage({ op: 'batch', items: [{ keys: ['/a', '/a'], value }] }))).toEqual({
      op: 'batch',
      items: [{ keys: ['/a'], value }]
    })
  })

  it('is answered BUSY whole past maxConcurrentPuts, and an idle node takes one however large', async () => {
    const release: Array<() => void> = []
    const slow = {
      getValues: local.dht.getValues.bind(local.dht),
      putValue: async (key: string, value: Uint8Array, options?: { localOnly?: boolean }) => {
        await new Promise<void>((r) => release.push(r))
        return local.dht.putValue(key, value, options)
      }
    }
    const handle = recordHandler(slow, { maxConcurrentPuts: 2 })
    const v = await sampleEnvelope(makeSigner(), { address: `${BASE}-busy` })
    const key = headKey(addressDigest(`${BASE}-busy`))
    const batch = (n: number) =>
      handle(
        encodeMessage({
          op: 'batch',
          items: Array.from({ length: n }, () => ({ keys: [key], value: v.bytes }))
        }),
        from
      )
    let settled = false
    const first = batch(3).finally(() => {
      settled = true
    })
    await new Promise((r) => setTimeout(r, 20))
    const second = decode(await batch(1))
    expect(second).toMatchObject({ ok: false, code: 'BUSY' })
    expect(parseBatchResponse(second, 2).map((a) => a.ok === false && a.code)).toEqual(['BUSY', 'BUSY'])
    // the three items are written one after another (each record waits for its release)
    for (let i = 0; i < 200 && !settled; i++) {
      for (const r of release.splice(0)) r()
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(decode(await first)).toEqual({ results: [OK, OK, OK] })
  })
})

describe('parseBatchResponse', () => {
  it('reads a result per item; a missing or unknown one is NOT_STORED, never the peer text', () => {
    expect(
      parseBatchResponse({ results: [{ ok: true }, { ok: false, code: 'NOPE', error: 'evil text' }] }, 3)
    ).toEqual([
      OK,
      { ok: false, code: 'NOT_STORED', error: 'the record was not stored' },
      { ok: false, code: 'NOT_STORED', error: 'the record was not stored' }
    ])
    expect(parseBatchResponse('garbage', 1)).toEqual([
      { ok: false, code: 'NOT_STORED', error: 'the record was not stored' }
    ])
  })
})

describe('itemsOf', () => {
  it('sends a value shared by several keys once', () => {
    const a = new Uint8Array([1, 2])
    const b = new Uint8Array([3])
    expect(
      itemsOf([
        { key: '/v', value: a },
        { key: '/h', value: a },
        { key: '/x', value: b }
      ])
    ).toEqual([
      { keys: ['/v', '/h'], value: a },
      { keys: ['/x'], value: b }
    ])
  })
})

describe('PushBatcher', () => {
  /** A peer whose answers wait until released; records every batch it was sent. */
  function peer() {
    const batches: BatchItem[][] = []
    const pending: Array<() => void> = []
    const send = (_peer: string, items: BatchItem[], signal: AbortSignal) => {
      batches.push(items)
      return new Promise<PutResponse[]>((resolve, reject) => {
        pending.push(() => resolve(items.map(() => OK)))
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      })
    }
    const answerAll = () => {
      for (const p of pending.splice(0)) p()
    }
    return { send, batches, answerAll }
  }
  const item = (n: number): BatchItem => ({ keys: [`/k/${n}`], value: new Uint8Array([n]) })
  const tick = () => new Promise((r) => setTimeout(r, 0))

  it('sends a lone store at once, and the stores that wait behind a full pipe together', async () => {
    const p = peer()
    const batcher = new PushBatcher(p.send, 1)
    const signal = new AbortController().signal
    const first = batcher.push('A', item(0), signal)
    expect(p.batches).toEqual([[item(0)]])
    const rest = Array.from({ length: 5 }, (_, i) => batcher.push('A', item(i + 1), signal))
    // another peer has its own pipe
    const elsewhere = batcher.push('B', item(9), signal)
    expect(p.batches).toHaveLength(2)
    expect(batcher.waiting('A')).toBe(5)
    p.answerAll()
    expect(await first).toEqual(OK)
    expect(await elsewhere).toEqual(OK)
    await tick()
    expect(p.batches[2]).toEqual([1, 2, 3, 4, 5].map(item))
    p.answerAll()
    expect(await Promise.all(rest)).toEqual(rest.map(() => OK))
    expect(batcher.waiting('A')).toBe(0)
  })

  it('takes a store given up on out of its batch, and stops a request only when every store of it was given up on', async () => {
    const p = peer()
    const batcher = new PushBatcher(p.send, 1)
    const keep = new AbortController()
    const head = batcher.push('A', item(0), keep.signal)
    const drop = new AbortController()
    const dropped = batcher.push('A', item(1), drop.signal)
    const kept = batcher.push('A', item(2), keep.signal)
    drop.abort(new Error('given up'))
    await expect(dropped).rejects.toThrow('given up')
    p.answerAll()
    await head
    await tick()
    expect(p.batches[1]).toEqual([item(2)])
    // the only store of the batch in flight is given up on: the request is stopped
    keep.abort(new Error('gone'))
    await expect(kept).rejects.toThrow('gone')
    await tick()
    expect(batcher.waiting('A')).toBe(0)
  })

  it('fails every store of a batch whose request fails, and goes on with the next', async () => {
    let calls = 0
    const batcher = new PushBatcher(async (_peer, items) => {
      calls++
      if (calls === 1) throw new Error('connection reset')
      return items.map(() => OK)
    }, 1)
    const signal = new AbortController().signal
    const a = batcher.push('A', item(0), signal)
    const b = batcher.push('A', item(1), signal)
    await expect(a).rejects.toThrow('connection reset')
    expect(await b).toEqual(OK)
  })
})
