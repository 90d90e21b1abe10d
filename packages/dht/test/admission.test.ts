/**
 * Admission between real LibP2PDHT nodes on 127.0.0.1. The team rule is a test-only
 * `PeerAdmission` that really decides on the bytes and the key: a certificate is
 * `notAfter (8 bytes) || HMAC-SHA256(team secret, node key || notAfter)`, and a peer is admitted
 * when its raw Ed25519 key is on the team's allow-list and the certificate's MAC is over that key.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { SingleKadDHT } from '@libp2p/kad-dht'
import { byteStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AdmittedMember, PeerAdmission } from '../src/contract.js'
import { NoPeersAcknowledgedError, PeerNotAdmittedError } from '../src/errors.js'
import { createLibP2PDHT, type LibP2PDHT, type LibP2PDHTInit } from '../src/libp2p/libp2p-dht.js'
import { TEST_CONNECTION_LIMITS } from '../src/testing/network.js'
import { permissiveRecords } from '../src/testing/records.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
const ECHO = '/CHORUS/test-echo/1.0.0'
const ADMISSION = '/CHORUS/admission/1.0.0'
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** A team for tests: a MAC secret (stands in for the root key) and an allow-list of node keys. */
class TestTeam {
  readonly #secret: Buffer
  readonly #members = new Set<string>()

  constructor(secret: Buffer = randomBytes(32)) {
    this.#secret = secret
  }

  enrol(key: PrivateKey): void {
    this.#members.add(hex(key.publicKey.raw))
  }

  certify(key: PrivateKey, notAfter = Date.now() + 3_600_000): Uint8Array {
    const when = Buffer.alloc(8)
    when.writeBigUInt64BE(BigInt(notAfter))
    return Buffer.concat([when, this.#mac(key.publicKey.raw, when)])
  }

  /**
   * The rule a node of this team runs. `notAfter` may shorten what an admission lasts for a key
   * (undefined: the certificate's own), or refuse it (throw).
   */
  admission(own: Uint8Array, notAfter?: (peerKey: string, certified: number) => number): PeerAdmission {
    return {
      certificate: () => own,
      admit: (peerKey, certificate): AdmittedMember => {
        if (certificate.byteLength !== 40) throw new Error('not a certificate')
        const when = Buffer.from(certificate.subarray(0, 8))
        const mac = Buffer.from(certificate.subarray(8))
        if (!timingSafeEqual(mac, this.#mac(peerKey, when))) throw new Error('certificate not for this key')
        if (!this.#members.has(hex(peerKey))) throw new Error('not a member')
        const certified = Number(when.readBigUInt64BE())
        if (certified <= Date.now()) throw new Error('certificate expired')
        return {
          agent: `agent-${hex(peerKey).slice(0, 8)}`,
          roles: ['developer'],
          notAfter: notAfter?.(hex(peerKey), certified) ?? certified
        }
      }
    }
  }

  #mac(key: Uint8Array, when: Uint8Array): Buffer {
    return createHmac('sha256', this.#secret).update(key).update(when).digest()
  }
}

/** Polls `check` until it holds (bounded); the assertions that follow say what was expected. */
async function until(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
}

const started: LibP2PDHT[] = []

async function node(init: Partial<LibP2PDHTInit>): Promise<LibP2PDHT> {
  const n = await createLibP2PDHT({
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mode: 'server',
    autoBootstrap: false,
    discoveryInterval: 0,
    connection: TEST_CONNECTION_LIMITS,
    records: permissiveRecords,
    admissionTimeout: 5_000,
    ...init
  })
  started.push(n)
  return n
}

/** Whether `peer` is in kad-dht's routing table of `n` (a test may read kad-dht's internals). */
async function inRoutingTable(n: LibP2PDHT, peer: LibP2PDHT): Promise<boolean> {
  const table = (n.libp2p.services.dht as SingleKadDHT).routingTable as unknown as {
    find(peer: PeerId): Promise<PeerId | undefined>
  }
  return (await table.find(peer.libp2p.peerId)) != null
}

async function refusals(n: LibP2PDHT): Promise<number> {
  return (await n.getStats()).admission?.refused ?? 0
}

describe('admission of team members on 127.0.0.1', () => {
  const team = new TestTeam()
  let aKey: PrivateKey
  let eKey: PrivateKey
  let a: LibP2PDHT
  let b: LibP2PDHT
  const served: string[] = []

  beforeAll(async () => {
    aKey = await generateKeyPair('Ed25519')
    const bKey = await generateKeyPair('Ed25519')
    eKey = await generateKeyPair('Ed25519')
    team.enrol(aKey)
    team.enrol(bKey)
    team.enrol(eKey)
    // a lets e's admission last two seconds, once; later certificates of e it refuses
    let eAdmitted = false
    const short = (peerKey: string, certified: number): number => {
      if (peerKey !== hex(eKey.publicKey.raw)) return certified
      if (eAdmitted) throw new Error('certificate revoked')
      eAdmitted = true
      return Date.now() + 2_000
    }
    a = await node({ privateKey: aKey, admission: team.admission(team.certify(aKey), short) })
    b = await node({
      privateKey: bKey,
      admission: team.admission(team.certify(bKey)),
      bootstrapPeers: a.multiaddrs
    })
    await a.handle(ECHO, async (request, from) => {
      served.push(from.id)
      return request
    })
    await b.bootstrap()
  }, 60_000)

  afterAll(async () => {
    await Promise.allSettled(started.map((n) => n.close()))
  }, 30_000)

  it('two members admit each other both ways and exchange records over kad and a handle() protocol', async () => {
    await until(() => a.admittedPeer(b.peerId) != null && b.admittedPeer(a.peerId) != null)
    const bMember = a.admittedPeer(b.peerId)
    expect(bMember?.agent).toMatch(/^agent-[0-9a-f]{8}$/)
    expect(bMember?.roles).toEqual(['developer'])
    expect(bMember!.notAfter).toBeGreaterThan(Date.now())
    expect(a.admittedPeers().map((p) => p.peer)).toEqual([b.peerId])
    expect(b.admittedPeers().map((p) => p.peer)).toEqual([a.peerId])
    expect(a.getConnectedPeers()).toEqual([b.peerId])
    expect(b.getConnectedPeers()).toEqual([a.peerId])

    const put = await b.putValue('/CHORUS/admission/shared', enc.encode('among members'))
    expect(put.acks).toEqual([a.peerId])
    expect(dec.decode(await a.getValue('/CHORUS/admission/shared', { localOnly: true }))).toBe(
      'among members'
    )
    expect(dec.decode(await b.request(a.peerId, ECHO, enc.encode('ping')))).toBe('ping')
    expect(served).toEqual([b.peerId])
    const stats = (await a.getStats()).admission!
    expect(stats.admitted).toBe(1)
    expect(stats.refused).toBe(0)
  }, 60_000)

  const intruders: Array<[string, () => Promise<Partial<LibP2PDHTInit>>]> = [
    ['without admission (no certificate)', async () => ({})],
    [
      'whose certificate is signed by another team',
      async () => {
        const key = await generateKeyPair('Ed25519')
        team.enrol(key) // even on the allow-list: the certificate decides
        const other = new TestTeam()
        return { privateKey: key, admission: { ...other.admission(other.certify(key)), admit: admitAll } }
      }
    ],
    [
      "replaying a member's valid certificate",
      async () => {
        const key = await generateKeyPair('Ed25519')
        team.enrol(key)
        return { privateKey: key, admission: { certificate: () => team.certify(aKey), admit: admitAll } }
      }
    ]
  ]

  it.each(intruders)(
    'a non-member %s is refused by every member and nothing it sends is served',
    async (_, init) => {
      const x = await node(await init())
      const before = [await refusals(a), await refusals(b)]
      // it connects to both members; each refuses and hangs up on it
      await x.libp2p.dial(multiaddr(a.multiaddrs[0]!)).catch(() => {})
      await x.libp2p.dial(multiaddr(b.multiaddrs[0]!)).catch(() => {})
      await until(async () => (await refusals(a)) > before[0]! && (await refusals(b)) > before[1]!)
      expect(await refusals(a)).toBe(before[0]! + 1)
      expect(await refusals(b)).toBe(before[1]! + 1)
      const connections = (m: LibP2PDHT): number => m.libp2p.getConnections(x.libp2p.peerId).length
      await until(() => connections(a) + connections(b) === 0)
      for (const m of [a, b]) {
        expect(connections(m)).toBe(0)
        expect(m.getConnectedPeers()).not.toContain(x.peerId)
        expect(m.admittedPeer(x.peerId)).toBeUndefined()
        expect(m.admittedPeers().map((p) => p.peer)).not.toContain(x.peerId)
        // a non-member is not necessarily malicious: no reputation lost
        expect(m.reputation!.score(x.peerId)).toBe(0)
      }
      // it cannot come back during the deny period: the member's gater closes its connection during
      // the upgrade (the dialer may see it open for a moment), unrefused again; nor do members dial it
      const refusedBefore = await refusals(a)
      await x.libp2p.dial(multiaddr(a.multiaddrs[0]!)).catch(() => undefined)
      await until(() => x.libp2p.getConnections(a.libp2p.peerId).length === 0)
      expect(x.libp2p.getConnections(a.libp2p.peerId).length).toBe(0)
      expect(connections(a)).toBe(0)
      expect(await refusals(a)).toBe(refusedBefore)
      expect((await a.getStats()).admission!.denied).toBeGreaterThanOrEqual(1)
      await expect(a.libp2p.dial(x.libp2p.peerId).then(() => 'connected')).rejects.toThrow()
      // its kad PUT_VALUE and GET_VALUE and its handle() requests are refused; nothing is stored
      const key = `/CHORUS/admission/intruder-${x.peerId}`
      await expect(x.putValue(key, enc.encode('intrusion'))).rejects.toBeInstanceOf(NoPeersAcknowledgedError)
      for (const m of [a, b]) expect(await m.getValues(key, { localOnly: true })).toEqual([])
      expect((await x.getValues('/CHORUS/admission/shared')).filter((v) => v.from !== 'self')).toEqual([])
      await expect(
        x.request({ id: a.peerId, multiaddrs: a.multiaddrs }, ECHO, enc.encode('hi'))
      ).rejects.toThrow()
      expect(served).not.toContain(x.peerId)
      // a member's request to it fails as not admitted
      await expect(a.request(x.peerId, ECHO, enc.encode('hi'))).rejects.toBeInstanceOf(PeerNotAdmittedError)
      // the members keep working with each other
      const put = await b.putValue(`/CHORUS/admission/after-${x.peerId}`, enc.encode('still fine'))
      expect(put.acks).toEqual([a.peerId])
      expect(a.getConnectedPeers()).toEqual([b.peerId])
    },
    90_000
  )

  it('a peer that proves nothing: its streams wait for admission and are aborted at the timeout', async () => {
    // a plain node that claims the admission protocol (so identify does not give it away) but never sends
    const silent = await node({})
    await silent.libp2p.handle(ADMISSION, () => {})
    const key = '/CHORUS/admission/silent'
    const before = (await a.getStats()).admission!.timedOut
    const request = silent.request({ id: a.peerId, multiaddrs: a.multiaddrs }, ECHO, enc.encode('hi'))
    request.catch(() => {})
    // once connected, its kad-dht knows a: its PUT_VALUE and GET_VALUE go to a and wait there
    await until(() => silent.getDHTSize() > 0)
    const [put, got, provided] = await Promise.allSettled([
      silent.putValue(key, enc.encode('unproven')),
      silent.getValues('/CHORUS/admission/shared'),
      // its provider record may be written into a stream, but no member takes it: not acknowledged
      silent.provide(`${key}/provided`)
    ])
    expect(put.status === 'rejected' && NoPeersAcknowledgedError.isInstance(put.reason)).toBe(true)
    expect(provided.status === 'rejected' && NoPeersAcknowledgedError.isInstance(provided.reason)).toBe(true)
    expect(got.status === 'fulfilled' && got.value.filter((v) => v.from !== 'self')).toEqual([])
    await expect(request).rejects.toThrow()
    expect(served).not.toContain(silent.peerId)
    expect(await a.getValues(key, { localOnly: true })).toEqual([])
    await until(async () => (await a.getStats()).admission!.timedOut > before)
    expect((await a.getStats()).admission!.timedOut).toBeGreaterThan(before)
    // it is hung up on, but not denied (it may be a slow member): it may connect again, never admitted
    expect(a.getConnectedPeers()).toEqual([b.peerId])
    expect(a.admittedPeer(silent.peerId)).toBeUndefined()
    // a request to it connects, waits for an admission that never comes, and fails as not admitted
    const asked = a.request({ id: silent.peerId, multiaddrs: silent.multiaddrs }, ECHO, enc.encode('hi'))
    await expect(asked).rejects.toBeInstanceOf(PeerNotAdmittedError)
  }, 60_000)

  it('two members that dial each other at the same time are admitted both ways', async () => {
    const [k1, k2] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
    team.enrol(k1)
    team.enrol(k2)
    const [m1, m2] = await Promise.all([
      node({ privateKey: k1, admission: team.admission(team.certify(k1)) }),
      node({ privateKey: k2, admission: team.admission(team.certify(k2)) })
    ])
    await m2.handle(ECHO, async (request) => request)
    await Promise.allSettled([
      m1.libp2p.dial(multiaddr(m2.multiaddrs[0]!)),
      m2.libp2p.dial(multiaddr(m1.multiaddrs[0]!))
    ])
    await until(() => m1.admittedPeer(m2.peerId) != null && m2.admittedPeer(m1.peerId) != null)
    expect(m1.admittedPeers().map((p) => p.peer)).toEqual([m2.peerId])
    expect(m2.admittedPeers().map((p) => p.peer)).toEqual([m1.peerId])
    expect(dec.decode(await m1.request(m2.peerId, ECHO, enc.encode('both ways')))).toBe('both ways')
    expect((await m1.getStats()).admission!.refused).toBe(0)
    expect((await m2.getStats()).admission!.refused).toBe(0)
  }, 60_000)

  it('a malformed admission message costs the sender reputation and gets it refused', async () => {
    const garbler = await node({})
    await garbler.libp2p.handle(ADMISSION, () => {})
    const before = await refusals(a)
    const stream = await garbler.libp2p.dialProtocol(multiaddr(a.multiaddrs[0]!), ADMISSION)
    // a length prefix of 1 MiB, far over the admission message bound
    await byteStream(stream).write(Uint8Array.of(0x80, 0x80, 0x40))
    await until(async () => (await refusals(a)) > before)
    expect(await refusals(a)).toBe(before + 1)
    expect(a.reputation!.score(garbler.peerId)).toBeGreaterThan(0)
    expect(a.reputation!.stats().penalties['invalid-message']).toBeGreaterThanOrEqual(1)
  }, 60_000)

  it('a member refused later (its next certificate is bad) leaves the routing tables and closest peers', async () => {
    const key = await generateKeyPair('Ed25519')
    team.enrol(key)
    let certificate = team.certify(key)
    const r = await node({
      privateKey: key,
      admission: { ...team.admission(new Uint8Array(0)), certificate: () => certificate },
      bootstrapPeers: a.multiaddrs
    })
    await r.bootstrap()
    // admitted, and in a's routing table (kad-dht adds it after checking it answers)
    await until(async () => a.admittedPeer(r.peerId) != null && (await inRoutingTable(a, r)))
    expect(await inRoutingTable(a, r)).toBe(true)
    expect((await a.getClosestPeers(r.peerId)).map((p) => p.id)).toContain(r.peerId)
    // a new connection proves membership again, now with a certificate for another key
    certificate = team.certify(aKey)
    const before = await refusals(a)
    await r.libp2p.dial(multiaddr(a.multiaddrs[0]!), { force: true }).catch(() => undefined)
    await until(async () => (await refusals(a)) > before)
    expect(await refusals(a)).toBe(before + 1)
    expect(a.admittedPeer(r.peerId)).toBeUndefined()
    await until(async () => !(await inRoutingTable(a, r)))
    expect(await inRoutingTable(a, r)).toBe(false)
    expect((await a.getClosestPeers(r.peerId)).map((p) => p.id)).not.toContain(r.peerId)
    expect(a.getConnectedPeers()).not.toContain(r.peerId)
  }, 60_000)

  it('an expelled member is hung up on, leaves the routing table and is denied; a stranger cannot be expelled', async () => {
    const key = await generateKeyPair('Ed25519')
    team.enrol(key)
    const x = await node({
      privateKey: key,
      admission: team.admission(team.certify(key)),
      bootstrapPeers: a.multiaddrs
    })
    await x.bootstrap()
    await until(async () => a.admittedPeer(x.peerId) != null && (await inRoutingTable(a, x)))
    expect(a.expel(x.peerId)).toBe(true)
    expect(a.admittedPeer(x.peerId)).toBeUndefined()
    await until(
      async () => a.libp2p.getConnections(x.libp2p.peerId).length === 0 && !(await inRoutingTable(a, x))
    )
    expect(a.getConnectedPeers()).not.toContain(x.peerId)
    expect(await inRoutingTable(a, x)).toBe(false)
    // it comes back: the gate keeps it out for the deny period
    await x.libp2p.dial(multiaddr(a.multiaddrs[0]!), { force: true }).catch(() => undefined)
    await new Promise((r) => setTimeout(r, 1_000))
    expect(a.admittedPeer(x.peerId)).toBeUndefined()
    expect(a.getConnectedPeers()).not.toContain(x.peerId)
    // neither admitted nor connected
    const stranger = await generateKeyPair('Ed25519')
    const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
    expect(a.expel(peerIdFromPrivateKey(stranger).toString())).toBe(false)
  }, 60_000)

  it('an admission whose certificate passes its notAfter is dropped and the peer hung up on', async () => {
    const e = await node({
      privateKey: eKey,
      admission: team.admission(team.certify(eKey)),
      bootstrapPeers: a.multiaddrs
    })
    await e.bootstrap().catch(() => {})
    await until(async () => (await a.getStats()).admission!.expired >= 1)
    const stats = (await a.getStats()).admission!
    expect(stats.expired).toBe(1)
    expect(a.admittedPeer(e.peerId)).toBeUndefined()
    expect(a.admittedPeers().map((p) => p.peer)).not.toContain(e.peerId)
    await until(() => a.libp2p.getConnections(e.libp2p.peerId).length === 0)
    expect(a.getConnectedPeers()).not.toContain(e.peerId)
  }, 60_000)
})

/** An intruder's own rule: it takes anyone. */
function admitAll(): AdmittedMember {
  return { agent: 'anyone', roles: [], notAfter: Date.now() + 3_600_000 }
}
