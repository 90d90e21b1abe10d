/**
 * Per-peer byte budgets beside the request rates, between real nodes: a flood of large requests on
 * a `handle()` protocol and of large records in kad-dht PUT_VALUE, each well under the request
 * rate, is throttled by bytes and costs the sender `flood` penalties; another protocol's budget
 * and small requests are unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LibP2PDHT } from '../src/libp2p/libp2p-dht.js'
import { startNetwork, type TestNetwork } from '../src/testing/index.js'

const ECHO = '/CHORUS/test-bytes/1.0.0'
const KiB = 1024

describe('per-peer byte budgets (2 libp2p nodes)', () => {
  let net: TestNetwork
  let server: LibP2PDHT
  let sender: LibP2PDHT
  let served = 0

  beforeAll(async () => {
    net = await startNetwork({
      nodes: 2,
      // the server: 1 MiB per peer and protocol, refilled at a byte a second; requests unlimited in practice
      init: (i) =>
        i === 0
          ? { byteRateLimit: { burst: 1024 * KiB, ratePerSecond: 1 }, reputation: { threshold: 1_000_000 } }
          : { reputation: false }
    })
    server = net.nodes[0]!
    sender = net.nodes[1]!
    await server.handle(
      ECHO,
      async () => {
        served++
        return new Uint8Array([1])
      },
      { maxRequestBytes: 2 * 1024 * KiB }
    )
  }, 60_000)

  afterAll(async () => {
    await net?.stop()
  }, 30_000)

  const floods = (): number => server.reputation!.stats().penalties.flood

  it('a handle() protocol: large requests stop at the byte budget, small ones still fit', async () => {
    const big = new Uint8Array(300 * KiB)
    for (let i = 0; i < 3; i++) await sender.request(server.peerId, ECHO, big)
    expect(served).toBe(3)
    await expect(sender.request(server.peerId, ECHO, big)).rejects.toThrow()
    expect(served).toBe(3)
    expect(floods()).toBe(1)
    // what is left of the budget (about 124 KiB) still serves small requests
    await sender.request(server.peerId, ECHO, new Uint8Array(1 * KiB))
    expect(served).toBe(4)
  })

  it('kad-dht PUT_VALUE: large records stop at the byte budget; the server keeps none past it', async () => {
    const before = floods()
    const stored: boolean[] = []
    for (let i = 0; i < 5; i++) {
      const key = `/test/bytes-${i}`
      await sender.putValue(key, new Uint8Array(400 * KiB).fill(i + 1)).catch(() => undefined)
      const held = await server.getValues(key, { localOnly: true }).catch(() => [])
      stored.push(held.length > 0)
    }
    // 1 MiB of budget: two 400 KiB records fit, the rest is refused as a flood
    expect(stored).toEqual([true, true, false, false, false])
    expect(floods()).toBeGreaterThan(before)
  }, 60_000)
})
