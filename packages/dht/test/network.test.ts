import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidKeyError, InvalidRecordError, NotFoundError, ProtocolError } from '../src/errors.js'
import type { LibP2PDHT } from '../src/index.js'
import { startNetwork, type TestNetwork } from '../src/testing/index.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

describe('a 10-node LibP2PDHT network on 127.0.0.1', () => {
  let net: TestNetwork

  beforeAll(async () => {
    net = await startNetwork({ nodes: 10 })
  }, 90_000)

  afterAll(async () => {
    await net?.stop()
  }, 30_000)

  it('every node has joined: routing tables and connections are populated', () => {
    for (const node of net.nodes) {
      expect(node.isBootstrapped()).toBe(true)
      expect(node.getDHTSize()).toBeGreaterThan(0)
      expect(node.getConnectedPeers().length).toBeGreaterThan(0)
    }
  })

  it('a value put on one node is read on every other, with acknowledgements from real peers', async () => {
    const writer = net.nodes[3]!
    const result = await writer.putValue('/CHORUS/test/hello', enc.encode('hello world'))
    expect(result.storedLocally).toBe(true)
    expect(result.acks.length).toBeGreaterThan(0)
    const others = new Set(net.nodes.filter((n) => n !== writer).map((n) => n.peerId))
    for (const ack of result.acks) expect(others.has(ack)).toBe(true)
    expect(result.acks).not.toContain(writer.peerId)
    for (const node of net.nodes) {
      if (node === writer) continue
      expect(dec.decode(await node.getValue('/CHORUS/test/hello'))).toBe('hello world')
    }
  }, 90_000)

  it('the acknowledging peers hold the record in their own store', async () => {
    const result = await net.nodes[1]!.putValue('/CHORUS/test/held', enc.encode('held'))
    const ackers = net.nodes.filter((n) => result.acks.includes(n.peerId))
    expect(ackers.length).toBe(result.acks.length)
    for (const node of ackers) {
      const local = await node.getValues('/CHORUS/test/held', { localOnly: true })
      expect(local.map((v) => dec.decode(v.value))).toEqual(['held'])
    }
  }, 60_000)

  it('getValues reports each sender, and getValue applies the selector', async () => {
    const key = '/CHORUS/test/versions'
    // node 0 and node 5 hold different values locally only; the permissive selector prefers the larger
    await net.nodes[0]!.putValue(key, enc.encode('a-older'), { localOnly: true })
    await net.nodes[5]!.putValue(key, enc.encode('b-newer'), { localOnly: true })
    const reader = net.nodes[8]!
    const values = await reader.getValues(key)
    const bySender = new Map(values.map((v) => [v.from, dec.decode(v.value)]))
    expect(bySender.get(net.nodes[0]!.peerId)).toBe('a-older')
    expect(bySender.get(net.nodes[5]!.peerId)).toBe('b-newer')
    expect(dec.decode(await reader.getValue(key))).toBe('b-newer')
    const own = await net.nodes[0]!.getValues(key)
    expect(own.find((v) => v.from === 'self')?.value).toEqual(enc.encode('a-older'))
  }, 60_000)

  it('minAcks resolves once that many peers acknowledged', async () => {
    const result = await net.nodes[6]!.putValue('/CHORUS/test/min', enc.encode('m'), { minAcks: 1 })
    expect(result.acks.length).toBeGreaterThanOrEqual(1)
  }, 60_000)

  it('a missing key is NotFoundError; bad keys and refused records are typed errors', async () => {
    await expect(net.nodes[2]!.getValue('/CHORUS/test/never-written')).rejects.toBeInstanceOf(NotFoundError)
    await expect(net.nodes[2]!.putValue('no-namespace', enc.encode('x'))).rejects.toBeInstanceOf(
      InvalidKeyError
    )
    await expect(net.nodes[2]!.putValue('/other/x', enc.encode('x'))).rejects.toBeInstanceOf(InvalidKeyError)
    const big = new Uint8Array(1024 * 1024 + 1)
    await expect(net.nodes[2]!.putValue('/CHORUS/test/big', big)).rejects.toBeInstanceOf(InvalidRecordError)
  }, 60_000)

  it('provide on one node reports the peers that acknowledged it; findProviders on the others', async () => {
    const provider = net.nodes[4]!
    const result = await provider.provide('CHORUS:content:abc')
    expect(result.key).toBe('CHORUS:content:abc')
    // ten nodes, k = 20: every other node is among the closest and confirms the record
    const others = net.nodes.filter((n) => n !== provider).map((n) => n.peerId)
    expect(result.peers.length).toBeGreaterThanOrEqual(others.length - 1)
    expect(result.peers).not.toContain(provider.peerId)
    for (const p of result.peers) expect(others).toContain(p)
    for (const node of [net.nodes[0]!, net.nodes[7]!, net.nodes[9]!]) {
      const found = await node.findProviders('CHORUS:content:abc')
      expect(found.map((p) => p.id)).toContain(provider.peerId)
      expect(found.find((p) => p.id === provider.peerId)?.multiaddrs.length).toBeGreaterThan(0)
    }
    expect((await provider.findProviders('CHORUS:content:abc')).map((p) => p.id)).toContain(provider.peerId)
    expect(await net.nodes[1]!.findProviders('CHORUS:content:nobody')).toEqual([])
  }, 60_000)

  it("noteProviders records providers in the node's own store only; provider queries then find them", async () => {
    const holder = net.nodes[2]!
    const writer = net.nodes[6]!
    // nothing is sent: before the note nobody lists a provider of the key
    expect(await net.nodes[8]!.findProviders('CHORUS:content:noted')).toEqual([])
    await holder.noteProviders?.('CHORUS:content:noted', [writer.peerId, holder.peerId, 'not-a-peer-id'])
    for (const node of [net.nodes[0]!, net.nodes[8]!]) {
      const found = (await node.findProviders('CHORUS:content:noted')).map((p) => p.id)
      expect(found).toContain(writer.peerId)
      expect(found).toContain(holder.peerId)
    }
  }, 60_000)

  it('roles and capabilities announced on some nodes are found from the others', async () => {
    const [a, b, c] = [net.nodes[1]!, net.nodes[2]!, net.nodes[3]!]
    await a.announceRole('backend_developer')
    await a.announceCapability('ucxl-storage')
    await b.announceRole('backend_developer')
    await c.announceRole('senior_architect')
    await c.announceCapability('ucxl-storage')
    await c.announceCapability('decision-making')

    const devs = await net.nodes[9]!.findPeersByRole('backend_developer')
    expect(devs.map((p) => p.id).sort()).toEqual([a.peerId, b.peerId].sort())
    const devA = devs.find((p) => p.id === a.peerId)!
    expect(devA.role).toBe('backend_developer')
    expect(devA.capabilities).toEqual(['ucxl-storage'])
    expect(devA.agentVersion).toBe('chorus-dht/0.1.0')

    const storers = await net.nodes[8]!.findPeersByCapability('ucxl-storage')
    expect(storers.map((p) => p.id).sort()).toEqual([a.peerId, c.peerId].sort())
    const architects = await net.nodes[0]!.findPeersByRole('senior_architect')
    expect(architects.map((p) => p.id)).toEqual([c.peerId])
    expect(architects[0]!.capabilities.sort()).toEqual(['decision-making', 'ucxl-storage'])
    expect(await net.nodes[0]!.findPeersByRole('nobody_has_this')).toEqual([])
    // lookups fill the known-peer table
    expect(net.nodes[9]!.getKnownPeers().map((p) => p.id)).toContain(a.peerId)
  }, 90_000)

  it('peer messaging: request/response, size limits, unhandle, ping', async () => {
    const [server, client] = [net.nodes[5]!, net.nodes[6]!]
    await server.handle(
      '/CHORUS/echo/1.0.0',
      async (req, from) => enc.encode(`${from.id}:${dec.decode(req)}`),
      { maxRequestBytes: 1024 }
    )
    const res = await client.request(server.peerId, '/CHORUS/echo/1.0.0', enc.encode('hi'))
    expect(dec.decode(res)).toBe(`${client.peerId}:hi`)
    await expect(
      client.request(server.peerId, '/CHORUS/echo/1.0.0', new Uint8Array(2048))
    ).rejects.toBeInstanceOf(ProtocolError)
    await expect(
      client.request(server.peerId, '/CHORUS/echo/1.0.0', enc.encode('x'.repeat(100)), {
        maxResponseBytes: 10
      })
    ).rejects.toBeInstanceOf(ProtocolError)
    await server.unhandle('/CHORUS/echo/1.0.0')
    await expect(
      client.request(server.peerId, '/CHORUS/echo/1.0.0', enc.encode('hi'))
    ).rejects.toBeInstanceOf(ProtocolError)
    const rtt = await client.ping(server.peerId)
    expect(rtt).toBeGreaterThanOrEqual(0)
  }, 60_000)

  it('getClosestPeers and stats describe the network', async () => {
    const closest = await net.nodes[0]!.getClosestPeers('/CHORUS/test/hello', { limit: 5 })
    expect(closest.length).toBeGreaterThan(0)
    expect(closest.length).toBeLessThanOrEqual(5)
    const ids = new Set(net.nodes.map((n) => n.peerId))
    for (const p of closest) expect(ids.has(p.id)).toBe(true)
    const stats = await net.nodes[3]!.getStats()
    expect(stats.totalPeers).toBe(net.nodes[3]!.getConnectedPeers().length)
    expect(stats.totalKeys).toBeGreaterThanOrEqual(1)
    expect(stats.routingTableSize).toBe(net.nodes[3]!.getDHTSize())
    expect(stats.mode).toBe('server')
    expect(stats.uptime).toBeGreaterThan(0)
  }, 60_000)

  it('isDHTServer: peers serving kad are servers; a node turned client stops being one for its peers', async () => {
    const turning = net.nodes[7]!
    // a peer connected to it hears of the change (identify push goes over open connections)
    const observer = net.nodes.find((n) => n !== turning && n.getConnectedPeers().includes(turning.peerId))!
    expect(observer.isDHTServer(observer.peerId)).toBe(true)
    expect(observer.isDHTServer(turning.peerId)).toBe(true)
    // an id never heard of is no server
    expect(observer.isDHTServer('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')).toBe(false)
    const heard = async (server: boolean): Promise<boolean> => {
      for (let i = 0; i < 100; i++) {
        if (observer.isDHTServer(turning.peerId) === server) return true
        await new Promise((r) => setTimeout(r, 100))
      }
      return false
    }
    await turning.libp2p.services.dht.setMode('client')
    try {
      expect(turning.isDHTServer(turning.peerId)).toBe(false)
      // identify push tells the connected peers that it no longer serves kad
      expect(await heard(false)).toBe(true)
    } finally {
      await turning.libp2p.services.dht.setMode('server')
    }
    expect(await heard(true)).toBe(true)
  }, 60_000)
})

describe('connected peers follow connections', () => {
  it('a peer that connects joins the list, one that stops leaves it', async () => {
    const net = await startNetwork({ nodes: 3 })
    try {
      const [a, b, c] = net.nodes as [LibP2PDHT, LibP2PDHT, LibP2PDHT]
      const until = async (what: string, ok: () => boolean) => {
        for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 100))
        if (!ok()) throw new Error(`not within 10 s: ${what}`)
      }
      await until('a connected to b and c', () => a.getConnectedPeers().length === 2)
      // asked again and again while nothing changes: the same answer, and a copy each time
      const first = a.getConnectedPeers()
      first.pop()
      expect(a.getConnectedPeers().sort()).toEqual([b.peerId, c.peerId].sort())
      await c.stop()
      await until('c left a\u2019s list', () => !a.getConnectedPeers().includes(c.peerId))
      expect(a.getConnectedPeers()).toEqual([b.peerId])
    } finally {
      await net.stop()
    }
  }, 60_000)
})
