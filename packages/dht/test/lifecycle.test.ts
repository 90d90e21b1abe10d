import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BootstrapError,
  createLibP2PDHT,
  DHTConfigError,
  generatePsk,
  type LibP2PDHT,
  NoPeersAcknowledgedError,
  NotFoundError,
  NotStartedError
} from '../src/index.js'
import { permissiveRecords, startNetwork, type TestNetwork } from '../src/testing/index.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

const started: Array<LibP2PDHT | TestNetwork> = []
const dirs: string[] = []

async function node(init: Parameters<typeof createLibP2PDHT>[0] = {}): Promise<LibP2PDHT> {
  const n = await createLibP2PDHT({
    records: permissiveRecords,
    mode: 'server',
    autoBootstrap: false,
    ...init
  })
  started.push(n)
  return n
}

/** Waits (bounded) until every node's routing table holds at least `size` peers. */
async function waitForTables(nodes: LibP2PDHT[], size: number): Promise<void> {
  const deadline = Date.now() + 20_000
  while (nodes.some((n) => n.getDHTSize() < size) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'chorus-dht-'))
  dirs.push(d)
  return d
}

afterEach(async () => {
  await Promise.allSettled(started.splice(0).map((s) => ('close' in s ? s.close() : s.stop())))
  await Promise.allSettled(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
}, 30_000)

describe('bootstrap', () => {
  it('against an unreachable peer fails within bootstrapTimeout with BootstrapError', async () => {
    // a port nobody listens on, and a peer id nobody has
    const ghost = await node({ listen: [] })
    const ghostId = ghost.peerId
    await ghost.close()
    const n = await node({
      bootstrapPeers: [`/ip4/127.0.0.1/tcp/9/p2p/${ghostId}`],
      bootstrapTimeout: 3_000
    })
    const t0 = Date.now()
    const err = await n.bootstrap().catch((e: unknown) => e)
    const elapsed = Date.now() - t0
    expect(err).toBeInstanceOf(BootstrapError)
    expect((err as BootstrapError).code).toBe('DHT_BOOTSTRAP_FAILED')
    expect((err as BootstrapError).peers).toEqual([`/ip4/127.0.0.1/tcp/9/p2p/${ghostId}`])
    expect(elapsed).toBeLessThan(3_000 + 2_000)
    expect(n.isBootstrapped()).toBe(false)
  }, 30_000)

  it('a bootstrap address without /p2p/ is a config error', async () => {
    await expect(createLibP2PDHT({ bootstrapPeers: ['not a multiaddr'] })).rejects.toBeInstanceOf(
      DHTConfigError
    )
    const n = await node()
    await expect(n.bootstrap({ peers: ['/ip4/127.0.0.1/tcp/9'] })).rejects.toBeInstanceOf(BootstrapError)
  }, 30_000)

  it('a node with no bootstrap peers works alone and joins later', async () => {
    const alone = await node()
    await alone.bootstrap() // nothing to join: resolves
    expect(alone.isBootstrapped()).toBe(false)
    // a network put reaches nobody: typed error, but the value is stored locally
    const err = await alone.putValue('/CHORUS/solo/a', enc.encode('solo')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NoPeersAcknowledgedError)
    expect((err as NoPeersAcknowledgedError).code).toBe('DHT_NO_ACKS')
    expect(dec.decode(await alone.getValue('/CHORUS/solo/a'))).toBe('solo')
    // local-only put: zero acks, no error
    const local = await alone.putValue('/CHORUS/solo/b', enc.encode('local'), { localOnly: true })
    expect(local).toEqual({ key: '/CHORUS/solo/b', acks: [], storedLocally: true })
    // a provide no peer heard: typed error too, and this node still lists itself as a provider
    const unheard = await alone.provide('CHORUS:solo').catch((e: unknown) => e)
    expect(NoPeersAcknowledgedError.isInstance(unheard)).toBe(true)
    expect(unheard).toMatchObject({ code: 'DHT_NO_ACKS', operation: 'provide', key: 'CHORUS:solo' })
    expect((await alone.findProviders('CHORUS:solo')).map((p) => p.id)).toEqual([alone.peerId])

    const net = await startNetwork({ nodes: 3 })
    started.push(net)
    await alone.bootstrap({ peers: net.bootstrapAddrs })
    expect(alone.isBootstrapped()).toBe(true)
    await waitForTables(net.nodes, 3)
    // the other nodes now read what it stored while alone: it answers GET_VALUE from its own store
    expect(dec.decode(await net.nodes[2]!.getValue('/CHORUS/solo/b'))).toBe('local')
    expect(dec.decode(await net.nodes[1]!.getValue('/CHORUS/solo/a'))).toBe('solo')
    const put = await alone.putValue('/CHORUS/solo/c', enc.encode('joined'))
    expect(put.acks.length).toBeGreaterThan(0)
    expect(dec.decode(await net.nodes[0]!.getValue('/CHORUS/solo/c'))).toBe('joined')
  }, 90_000)

  it('auto-bootstrap joins in the background at start', async () => {
    const net = await startNetwork({ nodes: 2 })
    started.push(net)
    const n = await node({ bootstrapPeers: net.bootstrapAddrs, autoBootstrap: true })
    const deadline = Date.now() + 20_000
    while (!n.isBootstrapped() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(n.isBootstrapped()).toBe(true)
  }, 60_000)
})

describe('lifecycle', () => {
  it('use before start throws NotStartedError; start and stop are idempotent', async () => {
    const n = await node({ start: false })
    await expect(n.putValue('/CHORUS/x/y', enc.encode('v'))).rejects.toBeInstanceOf(NotStartedError)
    await expect(n.getValue('/CHORUS/x/y')).rejects.toBeInstanceOf(NotStartedError)
    await expect(n.bootstrap()).rejects.toBeInstanceOf(NotStartedError)
    expect(n.getConnectedPeers()).toEqual([])
    await n.start()
    await n.start()
    expect(n.multiaddrs.length).toBeGreaterThan(0)
    await n.putValue('/CHORUS/x/y', enc.encode('v'), { localOnly: true })
    await n.stop()
    await n.stop()
    await expect(n.getValue('/CHORUS/x/y')).rejects.toBeInstanceOf(NotStartedError)
    await n.start()
    expect(dec.decode(await n.getValue('/CHORUS/x/y', { localOnly: true }))).toBe('v')
    await n.close()
  }, 30_000)

  it('close leaves no timer or socket behind', async () => {
    const count = (list: string[], kind: string) => list.filter((r) => r === kind).length
    const tcp = (list: string[]) => count(list, 'TCPServerWrap') + count(list, 'TCPSocketWrap')
    const before = process.getActiveResourcesInfo()
    const baseTimers = count(before, 'Timeout')
    const net = await startNetwork({
      nodes: 3,
      init: {
        autoBootstrap: true,
        discoveryInterval: 200,
        peerCleanupInterval: 200,
        autoBootstrapInterval: 200
      }
    })
    await net.nodes[1]!.announceRole('tester')
    await new Promise((r) => setTimeout(r, 600))
    await net.stop()
    await new Promise((r) => setTimeout(r, 500))
    const after = process.getActiveResourcesInfo()
    expect(tcp(after)).toBeLessThanOrEqual(tcp(before))
    expect(count(after, 'Timeout')).toBeLessThanOrEqual(baseTimers + 1)
  }, 60_000)

  it('the signer signs with the Ed25519 peer key', async () => {
    const n = await node()
    expect(n.signer.publicKey.byteLength).toBe(32)
    const data = enc.encode('sign me')
    const sig = await n.signer.sign(data)
    const key = await crypto.subtle.importKey('raw', n.signer.publicKey, { name: 'Ed25519' }, false, [
      'verify'
    ])
    expect(await crypto.subtle.verify({ name: 'Ed25519' }, key, sig, data)).toBe(true)
  }, 30_000)
})

describe('background tasks', () => {
  it('discovery fills the known-peer table with role and capabilities; cleanup drops stale entries', async () => {
    const net = await startNetwork({
      nodes: 3,
      init: (i) => ({
        discoveryInterval: 300,
        peerCleanupInterval: 200,
        peerTTL: 1_000,
        ...(i === 1 ? { role: 'devops_engineer', capabilities: ['deploy'] } : {})
      })
    })
    started.push(net)
    const [observer, announced] = [net.nodes[2]!, net.nodes[1]!]
    // an entry for a peer that is not connected: cleanup removes it after peerTTL
    observer.registerPeer('12D3KooWGhost1111111111111111111111111111111111111', 'x/1', 'ghost', [])
    const deadline = Date.now() + 30_000
    const seen = () => observer.getKnownPeers().find((p) => p.id === announced.peerId)
    while (
      Date.now() < deadline &&
      (seen()?.role !== 'devops_engineer' || observer.getKnownPeers().some((p) => p.role === 'ghost'))
    ) {
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(seen()?.role).toBe('devops_engineer')
    expect(seen()?.capabilities).toEqual(['deploy'])
    expect(observer.getKnownPeers().some((p) => p.role === 'ghost')).toBe(false)
  }, 60_000)
})

describe('persistence', () => {
  it('a node restarted on the same data directory keeps its peer id and its records', async () => {
    const dataDir = await tempDir()
    const first = await node({ dataDir })
    const id = first.peerId
    await first.putValue('/CHORUS/persist/a', enc.encode('kept'), { localOnly: true })
    await first.close()
    expect((await stat(join(dataDir, 'peer.key'))).mode & 0o777).toBe(0o600)

    const second = await node({ dataDir })
    expect(second.peerId).toBe(id)
    expect(dec.decode(await second.getValue('/CHORUS/persist/a', { localOnly: true }))).toBe('kept')
    // and serves it to the network after the restart
    const net = await startNetwork({ nodes: 2 })
    started.push(net)
    await second.bootstrap({ peers: net.bootstrapAddrs })
    await waitForTables(net.nodes, 2)
    expect(dec.decode(await net.nodes[1]!.getValue('/CHORUS/persist/a'))).toBe('kept')
  }, 60_000)
})

describe('private network (pre-shared key)', () => {
  it('a node without the key cannot connect or read anything', async () => {
    const psk = generatePsk()
    const net = await startNetwork({ nodes: 3, psk })
    started.push(net)
    const put = await net.nodes[1]!.putValue('/CHORUS/secret/x', enc.encode('for members'))
    expect(put.acks.length).toBeGreaterThan(0)

    const outsider = await node({ bootstrapTimeout: 2_000 })
    await expect(outsider.bootstrap({ peers: net.bootstrapAddrs })).rejects.toBeInstanceOf(BootstrapError)
    expect(outsider.getConnectedPeers()).toEqual([])
    expect(net.nodes[0]!.getConnectedPeers()).not.toContain(outsider.peerId)
    await expect(outsider.getValue('/CHORUS/secret/x')).rejects.toBeInstanceOf(NotFoundError)
    await expect(outsider.ping(net.nodes[0]!.peerId)).rejects.toThrow()

    const wrongKey = await node({ psk: generatePsk(), bootstrapTimeout: 2_000 })
    await expect(wrongKey.bootstrap({ peers: net.bootstrapAddrs })).rejects.toBeInstanceOf(BootstrapError)
    expect(wrongKey.getConnectedPeers()).toEqual([])

    // a member with the key joins and reads
    const member = await node({ psk })
    await member.bootstrap({ peers: net.bootstrapAddrs })
    expect(dec.decode(await member.getValue('/CHORUS/secret/x'))).toBe('for members')
  }, 90_000)
})

describe('records', () => {
  it('without record rules a /CHORUS put is refused with a clear error', async () => {
    const n = await createLibP2PDHT({ mode: 'server', autoBootstrap: false })
    started.push(n)
    await expect(n.putValue('/CHORUS/x/y', enc.encode('v'))).rejects.toThrow(
      /no validator for namespace "CHORUS"/
    )
  }, 30_000)

  it('peers refuse records their validator refuses: no acknowledgement', async () => {
    const strict = {
      validators: {
        CHORUS: (_k: Uint8Array, v: Uint8Array) => {
          if (dec.decode(v).startsWith('bad')) throw new Error('refused')
        }
      },
      selectors: { CHORUS: () => 0 }
    }
    const net = await startNetwork({ nodes: 3, records: strict })
    started.push(net)
    // a writer with looser rules than its network: every peer refuses, so no acks
    const loose = await node({ records: permissiveRecords })
    await loose.bootstrap({ peers: net.bootstrapAddrs })
    const err = await loose.putValue('/CHORUS/r/x', enc.encode('bad value')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NoPeersAcknowledgedError)
    for (const n of net.nodes) {
      expect(await n.getValues('/CHORUS/r/x', { localOnly: true })).toEqual([])
    }
    const ok = await loose.putValue('/CHORUS/r/y', enc.encode('good value'))
    expect(ok.acks.length).toBeGreaterThan(0)
  }, 60_000)
})
