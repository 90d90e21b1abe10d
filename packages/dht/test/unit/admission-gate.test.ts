import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { AdmissionGate } from '../../src/libp2p/admission-gate.js'
import { ed25519KeyOf, isPeerId, peerIdOfKey } from '../../src/libp2p/peer-key.js'
import { PeerWaits } from '../../src/libp2p/peer-waits.js'

function clock(start = 1_000_000) {
  let t = start
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

describe('AdmissionGate', () => {
  it('keeps every connection out until opened, and again once closed', async () => {
    const gate = new AdmissionGate({ denyPeriod: 1000 })
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    expect(await gate.gater.denyInboundEncryptedConnection?.(peer, {} as never)).toBe(true)
    expect(await gate.gater.denyDialPeer?.(peer)).toBe(true)
    gate.open()
    expect(await gate.gater.denyInboundEncryptedConnection?.(peer, {} as never)).toBe(false)
    expect(await gate.gater.denyDialPeer?.(peer)).toBe(false)
    gate.close()
    expect(await gate.gater.denyInboundUpgradedConnection?.(peer, {} as never)).toBe(true)
  })

  it('refuses a denied peer in both directions for the deny period, then lets it in again', async () => {
    const c = clock()
    const gate = new AdmissionGate({ denyPeriod: 10_000, now: c.now })
    gate.open()
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    gate.deny(peer.toString())
    expect(gate.isDenied(peer.toString())).toBe(true)
    expect(gate.deniedNow).toBe(1)
    for (const m of [
      'denyDialPeer',
      'denyInboundEncryptedConnection',
      'denyOutboundEncryptedConnection',
      'denyInboundUpgradedConnection',
      'denyOutboundUpgradedConnection'
    ] as const) {
      expect(await (gate.gater[m] as (p: unknown, c?: unknown) => boolean)(peer, {})).toBe(true)
    }
    c.advance(10_001)
    expect(gate.isDenied(peer.toString())).toBe(false)
    expect(gate.deniedNow).toBe(0)
    expect(await gate.gater.denyDialPeer?.(peer)).toBe(false)
  })

  it('remembers at most maxDenied peers, forgetting the oldest refusal first', () => {
    const gate = new AdmissionGate({ denyPeriod: 60_000, maxDenied: 3 })
    for (const p of ['p1', 'p2', 'p3', 'p4']) gate.deny(p)
    expect(gate.isDenied('p1')).toBe(false)
    expect(['p2', 'p3', 'p4'].every((p) => gate.isDenied(p))).toBe(true)
    expect(gate.deniedNow).toBe(3)
  })

  it("gives a denied peer no addresses in kad-dht's peer info (kad-dht then leaves it out)", async () => {
    const gate = new AdmissionGate({ denyPeriod: 60_000 })
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const info = { id: peer, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/1')] }
    expect(gate.mapPeerInfo(info)).toBe(info)
    gate.deny(peer.toString())
    expect(gate.mapPeerInfo(info).multiaddrs).toEqual([])
  })

  it('refuses a deny period that is not a positive number', () => {
    expect(() => new AdmissionGate({ denyPeriod: 0 })).toThrow(RangeError)
    expect(() => new AdmissionGate({ denyPeriod: Number.NaN })).toThrow(RangeError)
  })
})

describe('PeerWaits', () => {
  it('settles every wait of a peer with the verdict, times out to false, rejects on abort', async () => {
    const waits = new PeerWaits()
    const a = waits.wait('p', 60_000)
    const b = waits.wait('p', 60_000)
    const other = waits.wait('q', 20)
    waits.settle('p', true)
    await expect(Promise.all([a, b])).resolves.toEqual([true, true])
    await expect(other).resolves.toBe(false)
    const controller = new AbortController()
    const aborted = waits.wait('r', 60_000, controller.signal)
    controller.abort(new Error('stop'))
    await expect(aborted).rejects.toThrow('stop')
    const last = waits.wait('s', 60_000)
    waits.settleAll(false)
    await expect(last).resolves.toBe(false)
  })
})

describe('peer keys', () => {
  it('an Ed25519 peer id gives its raw key and back; other key types and bytes give nothing', async () => {
    const key = await generateKeyPair('Ed25519')
    const peer = peerIdFromPrivateKey(key)
    expect(ed25519KeyOf(peer)).toEqual(key.publicKey.raw)
    expect(peerIdOfKey(key.publicKey.raw)).toBe(peer.toString())
    expect(peerIdOfKey(new Uint8Array(5))).toBeUndefined()
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1'))
    expect(ed25519KeyOf(secp)).toBeUndefined()
    expect(isPeerId(peer.toString())).toBe(true)
    expect(isPeerId('nope')).toBe(false)
  })
})
