/**
 * The flake of the replicate tests ("Cannot write to a stream that is closed"), made
 * deterministic on two real nodes: libp2p's `dialProtocol` finishes opening a stream (peer-store
 * update, middleware) after the protocol was negotiated, which takes seconds on a loaded machine.
 * Here a client middleware holds the stream for 1 s while the server's handler waits only 300 ms
 * for the request, gives up and resets it; the client then gets a stream that is already reset.
 * Nothing was sent on that stream, so the request goes once more on a fresh one; when that one
 * dies too, it fails as what it is (the peer could not be reached), never by writing into a dead
 * stream.
 */
import { PeerUnreachableError } from '@chorus/dht'
import { startNetwork, type TestNetwork } from '@chorus/dht/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeResponse, encodePing, encodeResponse } from '../src/protocol.js'

const PROTOCOL = '/CHORUS/test-request/1.0.0'
let network: TestNetwork

beforeAll(async () => {
  // node 0 serves with a 300 ms limit per request; node 1 asks with 5 s
  network = await startNetwork({ nodes: 2, init: (i) => ({ requestTimeout: i === 0 ? 300 : 5_000 }) })
  await network.nodes[0]!.handle(PROTOCOL, async () => encodeResponse({ ok: true }))
}, 60_000)

afterAll(async () => {
  await network?.stop()
})

describe('a request whose stream dies while libp2p opens it', () => {
  it('is answered when the stream opens in time', async () => {
    const [server, client] = network.nodes
    const res = await client!.request(server!.peerId, PROTOCOL, encodePing())
    expect(decodeResponse(res)).toEqual({ ok: true })
  })

  it('is sent again on a fresh stream when the first one died unused', async () => {
    const [server, client] = network.nodes
    const states: string[] = []
    client!.libp2p.use(PROTOCOL, async (stream, connection, next) => {
      if (states.length === 0) await new Promise((r) => setTimeout(r, 1_000))
      states.push(`${stream.status}/${stream.writeStatus}`)
      next(stream, connection)
    })
    try {
      const res = await client!.request(server!.peerId, PROTOCOL, encodePing())
      expect(decodeResponse(res)).toEqual({ ok: true })
      expect(states).toEqual(['reset/closed', 'open/writable'])
    } finally {
      client!.libp2p.unuse(PROTOCOL)
    }
  }, 20_000)

  it('fails as unreachable when every stream dies unused, without writing into one', async () => {
    const [server, client] = network.nodes
    const states: string[] = []
    client!.libp2p.use(PROTOCOL, async (stream, connection, next) => {
      await new Promise((r) => setTimeout(r, 1_000))
      states.push(`${stream.status}/${stream.writeStatus}`)
      next(stream, connection)
    })
    try {
      const err = await client!.request(server!.peerId, PROTOCOL, encodePing()).then(
        () => undefined,
        (e: unknown) => e
      )
      // the server reset both streams before the client could send its request
      expect(states).toEqual(['reset/closed', 'reset/closed'])
      expect(err).toBeInstanceOf(PeerUnreachableError)
      expect(String((err as Error).message)).not.toMatch(/Cannot write/)
    } finally {
      client!.libp2p.unuse(PROTOCOL)
    }
  }, 20_000)
})
