/**
 * `invalid-message` penalties at the framing edges this package owns, between real nodes: a
 * request whose length prefix is over the limit or malformed, a peer-info request that is not
 * empty, a response over the caller's limit, a peer-info answer that does not decode. And the
 * facade's `penalise()` for what other packages' edges find.
 */
import { byteStream, lpStream } from '@libp2p/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProtocolError } from '../src/errors.js'
import type { LibP2PDHT } from '../src/libp2p/libp2p-dht.js'
import { startNetwork, type TestNetwork } from '../src/testing/index.js'

const ECHO = '/CHORUS/test-echo/1.0.0'
const LARGE = '/CHORUS/test-large/1.0.0'
const PEER_INFO = '/CHORUS/peerinfo/1.0.0'
/** The weight of one `invalid-message` penalty (DEFAULT_PENALTY_WEIGHTS). */
const WEIGHT = 20

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
}

describe('invalid-message penalties at the framing edges', () => {
  let net: TestNetwork
  let server: LibP2PDHT
  let sender: LibP2PDHT
  let served = 0

  beforeAll(async () => {
    net = await startNetwork({ nodes: 2 })
    server = net.nodes[0]!
    sender = net.nodes[1]!
    await server.handle(ECHO, async (request) => {
      served++
      return request
    })
    await server.handle(LARGE, async () => new Uint8Array(1024))
  }, 60_000)

  afterAll(async () => {
    await net?.stop()
  }, 30_000)

  /** Opens a stream from the sender to the server and writes raw bytes on it. */
  async function sendRaw(protocol: string, bytes: Uint8Array): Promise<void> {
    const stream = await sender.libp2p.dialProtocol(server.libp2p.peerId, protocol)
    await byteStream(stream).write(bytes)
  }

  const score = (): number => server.reputation!.score(sender.peerId)
  const charged = (): number => server.reputation!.stats().penalties['invalid-message']

  it('a request whose length prefix is over the limit costs the sender, and is not served', async () => {
    const before = score()
    // varint of 8 MiB (the limit is 4 MiB)
    await sendRaw(ECHO, Uint8Array.of(0x80, 0x80, 0x80, 0x04))
    await until(() => score() > before)
    expect(score() - before).toBeCloseTo(WEIGHT, 0)
    expect(served).toBe(0)
  })

  it('a malformed length prefix (a varint longer than any allowed length) costs the sender', async () => {
    const before = charged()
    await sendRaw(ECHO, new Uint8Array(10).fill(0xff))
    await until(() => charged() > before)
    expect(charged()).toBe(before + 1)
    expect(served).toBe(0)
  })

  it('a peer-info request that is not empty costs the sender', async () => {
    const before = charged()
    const stream = await sender.libp2p.dialProtocol(server.libp2p.peerId, PEER_INFO)
    await lpStream(stream).write(new TextEncoder().encode('who are you?'))
    await until(() => charged() > before)
    expect(charged()).toBe(before + 1)
  })

  it('an honest request costs nothing', async () => {
    const before = charged()
    expect(
      new TextDecoder().decode(await sender.request(server.peerId, ECHO, new TextEncoder().encode('ok')))
    ).toBe('ok')
    expect(charged()).toBe(before)
    expect(served).toBe(1)
  })

  it('a response over the caller’s limit costs the responder', async () => {
    const before = sender.reputation!.score(server.peerId)
    await expect(
      sender.request(server.peerId, LARGE, new Uint8Array(0), { maxResponseBytes: 16 })
    ).rejects.toBeInstanceOf(ProtocolError)
    expect(sender.reputation!.score(server.peerId) - before).toBeCloseTo(WEIGHT, 0)
  })

  it('a peer-info answer that does not decode costs the peer that gave it', async () => {
    await sender.announceCapability('garbled')
    // the sender now answers peer-info requests with something that is not JSON
    await sender.handle(PEER_INFO, async () => new TextEncoder().encode('not json'))
    const before = charged()
    expect(await server.findPeersByCapability('garbled')).toEqual([])
    expect(charged()).toBe(before + 1)
    expect(server.reputation!.score(sender.peerId)).toBeGreaterThan(0)
  })

  it('penalise() charges a peer for what another package’s edge found; a non-peer-id string is ignored', () => {
    const before = server.reputation!.stats().penalties['bogus-provider']
    server.penalise(sender.peerId, 'bogus-provider')
    server.penalise('not a peer id', 'bogus-provider')
    expect(server.reputation!.stats().penalties['bogus-provider']).toBe(before + 1)
    expect(server.reputation!.score('not a peer id')).toBe(0)
  })
})
