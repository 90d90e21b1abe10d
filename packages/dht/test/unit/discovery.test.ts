import { silentLogger } from '@chorus/common'
import { afterEach, describe, expect, it } from 'vitest'
import type { PeerInfo } from '../../src/contract.js'
import { DHTConfigError, NoPeersAcknowledgedError } from '../../src/errors.js'
import {
  capabilityKey,
  checkName,
  Discovery,
  type DiscoveryComponents,
  PEER_ANNOUNCE_KEY,
  roleKey
} from '../../src/libp2p/discovery.js'
import {
  decodePeerInfo,
  encodePeerInfo,
  PEER_INFO_MAX_CAPABILITIES,
  PEER_INFO_MAX_FIELD,
  peerInfoHandler
} from '../../src/libp2p/handlers/peer-info.js'
import type { Lifetime } from '../../src/libp2p/lifetime.js'
import { startedRun } from './fakes.js'

const enc = new TextEncoder()
const runs: Lifetime[] = []
afterEach(() => {
  for (const r of runs.splice(0)) r.end()
})

describe('peer-info codec', () => {
  it('round-trips what a node tells about itself', () => {
    const self = { agentVersion: 'chorus-dht/0.1.0', role: 'backend', capabilities: ['a', 'b'] }
    expect(decodePeerInfo(encodePeerInfo(self))).toEqual(self)
    expect(decodePeerInfo(encodePeerInfo({ agentVersion: 'x', capabilities: [] }))).toEqual({
      agentVersion: 'x',
      role: '',
      capabilities: []
    })
  })

  it('bounds a peer answer: long fields cut, too many capabilities dropped, wrong types ignored', () => {
    const long = 'x'.repeat(PEER_INFO_MAX_FIELD + 50)
    const caps = Array.from({ length: PEER_INFO_MAX_CAPABILITIES + 10 }, (_, i) => `c${i}`)
    const info = decodePeerInfo(
      enc.encode(JSON.stringify({ agentVersion: long, role: 7, capabilities: [long, 3, ...caps] }))
    )
    expect(info.agentVersion).toHaveLength(PEER_INFO_MAX_FIELD)
    expect(info.role).toBe('')
    expect(info.capabilities).toHaveLength(PEER_INFO_MAX_CAPABILITIES)
    expect(info.capabilities[0]).toHaveLength(PEER_INFO_MAX_FIELD)
    expect(decodePeerInfo(enc.encode('{"capabilities":"nope"}')).capabilities).toEqual([])
  })

  it('refuses what is not a JSON object', () => {
    expect(() => decodePeerInfo(enc.encode('null'))).toThrow()
    expect(() => decodePeerInfo(enc.encode('{'))).toThrow()
  })

  it('the handler answers the current self info', async () => {
    const self = { agentVersion: 'v', capabilities: ['c'] }
    const handler = peerInfoHandler({ self: () => self })
    expect(decodePeerInfo(await handler())).toEqual({ agentVersion: 'v', role: '', capabilities: ['c'] })
  })
})

describe('names', () => {
  it('roles and capabilities are 1-128 characters of [A-Za-z0-9_.:-]', () => {
    expect(() => checkName('role', 'backend_developer')).not.toThrow()
    expect(() => checkName('role', '')).toThrow(DHTConfigError)
    expect(() => checkName('role', 'a b')).toThrow(DHTConfigError)
    expect(() => checkName('role', 'x'.repeat(129))).toThrow(DHTConfigError)
    expect(roleKey('r')).toBe('CHORUS:role:r')
    expect(capabilityKey('c')).toBe('CHORUS:capability:c')
  })
})

/** A network of fake peers: provider records by key, and each peer's peer-info answer. */
function discovery(
  peers: Record<string, { role?: string; capabilities: string[] }>,
  table = 1,
  unacknowledged: ReadonlySet<string> = new Set()
) {
  const run = startedRun()
  runs.push(run)
  const providers = new Map<string, PeerInfo[]>()
  const provided: string[] = []
  const asked: string[] = []
  for (const [id, info] of Object.entries(peers)) {
    const keys = [
      PEER_ANNOUNCE_KEY,
      ...(info.role ? [roleKey(info.role)] : []),
      ...info.capabilities.map(capabilityKey)
    ]
    for (const k of keys)
      providers.set(k, [...(providers.get(k) ?? []), { id, multiaddrs: [`/ip4/10.0.0.1/tcp/1/p2p/${id}`] }])
  }
  const components: DiscoveryComponents = {
    routing: {
      provide: async (key) => {
        provided.push(key)
        providers.set(key, [...(providers.get(key) ?? []), { id: 'me', multiaddrs: [] }])
        if (unacknowledged.has(key)) throw new NoPeersAcknowledgedError(key, { operation: 'provide' })
        return { key, peers: ['p1'] }
      },
      findProviders: async (key) => providers.get(key) ?? []
    },
    request: async (peer) => {
      asked.push(peer.id)
      const info = peers[peer.id]
      if (info == null) throw new Error('unreachable')
      return encodePeerInfo({ agentVersion: 'remote', ...info })
    },
    serve: async () => {},
    self: () => ({ id: 'me', multiaddrs: ['/ip4/127.0.0.1/tcp/1/p2p/me'] }),
    connectedPeers: () => [],
    routingTableSize: () => table,
    scheduler: run,
    logger: silentLogger
  }
  const d = new Discovery(components, {
    protocolPrefix: '/T',
    agentVersion: 'mine',
    capabilities: [],
    discoveryInterval: 60_000,
    peerCleanupInterval: 0,
    peerTTL: 60_000
  })
  return { d, provided, asked }
}

describe('Discovery', () => {
  it('announces a role under its key and CHORUS:peer, a capability under its key', async () => {
    const { d, provided } = discovery({})
    await d.announceRole('backend')
    await d.announceCapability('gpu')
    expect(provided).toEqual([roleKey('backend'), PEER_ANNOUNCE_KEY, capabilityKey('gpu')])
    await expect(d.announceRole('bad role')).rejects.toBeInstanceOf(DHTConfigError)
  })

  it('finds peers by role and capability, asking each for its details once, itself included', async () => {
    const { d, asked } = discovery({
      p1: { role: 'backend', capabilities: ['gpu'] },
      p2: { role: 'frontend', capabilities: ['gpu'] }
    })
    await d.announceRole('backend')
    const backends = await d.findPeersByRole('backend')
    expect(backends.map((p) => p.id).sort()).toEqual(['me', 'p1'])
    expect(backends.find((p) => p.id === 'p1')).toMatchObject({ role: 'backend', agentVersion: 'remote' })
    expect(backends.find((p) => p.id === 'me')).toMatchObject({ role: 'backend', agentVersion: 'mine' })
    const gpus = await d.findPeersByCapability('gpu')
    expect(gpus.map((p) => p.id).sort()).toEqual(['p1', 'p2'])
    // p1 was known with a matching entry: asked once only
    expect(asked.filter((id) => id === 'p1')).toHaveLength(1)
    expect(
      d
        .getKnownPeers()
        .map((p) => p.id)
        .sort()
    ).toEqual(['p1', 'p2'])
  })

  it('a discovery round announces CHORUS:peer once and refreshes only providers not seen within half an interval', async () => {
    const { d, provided, asked } = discovery({ p1: { capabilities: [] }, p2: { capabilities: [] } })
    await d.discover(AbortSignal.timeout(1000))
    await d.discover(AbortSignal.timeout(1000))
    expect(provided).toEqual([PEER_ANNOUNCE_KEY])
    expect(asked.sort()).toEqual(['p1', 'p2'])
    expect(d.size).toBe(2)
  })

  it('announceRole reports the peers that acknowledged the role; an unacknowledged CHORUS:peer does not fail it', async () => {
    const { d, provided } = discovery({}, 1, new Set([PEER_ANNOUNCE_KEY]))
    expect(await d.announceRole('backend')).toEqual({ key: roleKey('backend'), peers: ['p1'] })
    expect(provided).toEqual([roleKey('backend'), PEER_ANNOUNCE_KEY])
  })

  it('an unacknowledged role or capability announcement rejects with NoPeersAcknowledgedError', async () => {
    const { d } = discovery({}, 1, new Set([roleKey('backend'), capabilityKey('gpu')]))
    await expect(d.announceRole('backend')).rejects.toMatchObject({
      code: 'DHT_NO_ACKS',
      operation: 'provide'
    })
    await expect(d.announceCapability('gpu')).rejects.toBeInstanceOf(NoPeersAcknowledgedError)
  })

  it('a discovery round goes on when its CHORUS:peer announcement is not acknowledged, and retries it next round', async () => {
    const { d, provided, asked } = discovery({ p1: { capabilities: [] } }, 1, new Set([PEER_ANNOUNCE_KEY]))
    await d.discover(AbortSignal.timeout(1000))
    await d.discover(AbortSignal.timeout(1000))
    expect(provided).toEqual([PEER_ANNOUNCE_KEY, PEER_ANNOUNCE_KEY])
    expect(asked).toEqual(['p1'])
  })

  it('announces CHORUS:peer only once the routing table holds a peer', async () => {
    const { d, provided } = discovery({}, 0)
    await d.announcePeer(AbortSignal.timeout(1000))
    expect(provided).toEqual([])
  })

  it('registerPeer writes the known-peer table', () => {
    const { d } = discovery({})
    d.registerPeer('p9', 'v', 'ops', ['a', 'a'])
    expect(d.getKnownPeers()).toMatchObject([{ id: 'p9', role: 'ops', capabilities: ['a'] }])
  })
})
