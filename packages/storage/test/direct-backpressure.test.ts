import type { LocalDHT } from '@chorus/dht'
import { addressDigest } from '@chorus/ucxl'
import { decode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { headKey } from '../src/address.js'
import {
  BUSY_RETRY_AFTER_MS,
  busy,
  encodeMessage,
  MAX_RETRY_AFTER_MS,
  parsePutResponse,
  recordHandler
} from '../src/direct/index.js'
import { PeerGate } from '../src/direct/peer-gate.js'
import { BASE, makeSigner, sampleEnvelope, useLocalDHT } from './helpers.js'

// Back-pressure on the direct record protocol: a saturated peer answers BUSY with a retry-after
// (not a refusal), and a writer keeps its requests to one peer within the peer's stream limit.
const from = { id: '12D3KooWtest', multiaddrs: [] }

describe('a saturated peer answers BUSY', () => {
  const local = useLocalDHT()

  it('past maxConcurrentPuts, a put is answered BUSY with a retry-after, and taken again once there is room', async () => {
    // a record store that holds every write until released: puts pile up in the handler
    const dht: LocalDHT = local.dht
    const release: Array<() => void> = []
    const slow = {
      getValues: dht.getValues.bind(dht),
      putValue: async (key: string, value: Uint8Array, options?: { localOnly?: boolean }) => {
        await new Promise<void>((r) => release.push(r))
        return dht.putValue(key, value, options)
      }
    }
    const handle = recordHandler(slow, { maxConcurrentPuts: 2 })
    const signer = makeSigner()
    const v = await sampleEnvelope(signer)
    const key = headKey(addressDigest(BASE))
    const ask = () => handle(encodeMessage({ op: 'put', records: [{ key, value: v.bytes }] }), from)
    const first = ask()
    const second = ask()
    await new Promise((r) => setTimeout(r, 20))
    expect(release.length).toBe(2)
    const third = decode(await ask())
    expect(third).toEqual({
      ok: false,
      code: 'BUSY',
      error: 'busy, retry later',
      retryAfterMs: BUSY_RETRY_AFTER_MS
    })
    for (const r of release.splice(0)) r()
    expect(decode(await first)).toEqual({ ok: true })
    expect(decode(await second)).toEqual({ ok: true })
    // room again: the next put is taken
    const fourth = ask()
    await new Promise((r) => setTimeout(r, 20))
    for (const r of release.splice(0)) r()
    expect(decode(await fourth)).toEqual({ ok: true })
  })

  it("reads a peer's BUSY answer with its retry-after bounded", () => {
    expect(parsePutResponse({ ok: false, code: 'BUSY', retryAfterMs: 250 })).toEqual(busy(250))
    expect(parsePutResponse({ ok: false, code: 'BUSY', retryAfterMs: 10 ** 9 })).toMatchObject({
      retryAfterMs: MAX_RETRY_AFTER_MS
    })
    expect(parsePutResponse({ ok: false, code: 'BUSY', retryAfterMs: 'soon' })).toMatchObject({
      code: 'BUSY',
      retryAfterMs: 100
    })
    expect(parsePutResponse({ ok: false, code: 'BUSY', retryAfterMs: -5 })).toMatchObject({ retryAfterMs: 1 })
  })
})

describe('PeerGate', () => {
  it('lets `limit` requests to one peer run at once, queues the rest in order, other peers unaffected', async () => {
    const gate = new PeerGate(2)
    const signal = new AbortController().signal
    const order: string[] = []
    const hold: Array<() => void> = []
    const job = (name: string) => () =>
      new Promise<string>((resolve) => {
        order.push(name)
        hold.push(() => resolve(name))
      })
    const runs = ['a1', 'a2', 'a3', 'a4'].map((n) => gate.run('a', signal, job(n)))
    const other = gate.run('b', signal, job('b1'))
    await new Promise((r) => setTimeout(r, 5))
    expect(order).toEqual(['a1', 'a2', 'b1'])
    expect(gate.inFlight('a')).toBe(2)
    hold.shift()!() // a1 ends: a3 starts
    await new Promise((r) => setTimeout(r, 5))
    expect(order).toEqual(['a1', 'a2', 'b1', 'a3'])
    while (hold.length > 0) {
      hold.shift()!()
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(await Promise.all([...runs, other])).toEqual(['a1', 'a2', 'a3', 'a4', 'b1'])
    expect(gate.inFlight('a')).toBe(0)
  })

  it('a queued request whose signal aborts leaves the queue with its reason', async () => {
    const gate = new PeerGate(1)
    let release = () => {}
    const first = gate.run('a', new AbortController().signal, () => new Promise<void>((r) => (release = r)))
    const ac = new AbortController()
    const queued = gate.run('a', ac.signal, async () => 'ran')
    ac.abort(new Error('gave up'))
    await expect(queued).rejects.toThrow('gave up')
    release()
    await first
    expect(await gate.run('a', new AbortController().signal, async () => 'next')).toBe('next')
    expect(gate.inFlight('a')).toBe(0)
  })
})
