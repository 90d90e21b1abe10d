// Unit tests of the peer reputation system (packages/dht/src/reputation), on a fake clock.
import { afterAll, describe, expect, it } from 'vitest'
import {
  combineGaters,
  createPeerReputation,
  createRateLimiter,
  guardProtocolHandler,
  guardRecordRules,
  inboundPeer,
  PeerBannedError,
  RateLimitedError
} from '../../packages/dht/src/reputation/index.js'
import { createReport } from './report.js'

const report = createReport('reputation-unit')
afterAll(() => report.flush())

const A = '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
const B = '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'
const peer = (id: string) => ({ toString: () => id }) as never

function clock(start = 1_000_000) {
  let t = start
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

describe('peer reputation', () => {
  it('bans a peer whose penalties reach the threshold, and only that peer', () => {
    const c = clock()
    const rep = createPeerReputation({ now: c.now })
    expect(rep.penalise(A, 'invalid-record').banned).toBe(false)
    expect(rep.penalise(A, 'invalid-record').banned).toBe(false)
    expect(rep.penalise(A, 'invalid-record').banned).toBe(true) // 3 x 40 >= 100
    expect(rep.isBanned(A)).toBe(true)
    expect(rep.isBanned(B)).toBe(false)
    expect(rep.banned()).toEqual([{ peer: A, until: c.now() + 600_000, reason: 'invalid-record', count: 1 }])
    expect(rep.stats()).toMatchObject({ bans: 1, bannedNow: 1, penalties: { 'invalid-record': 3 } })
    report.check('three invalid records ban a peer; others unaffected')
  })

  it('points decay with the configured half-life, so occasional mistakes never ban', () => {
    const c = clock()
    const rep = createPeerReputation({ now: c.now, decay: 60_000 })
    for (let i = 0; i < 20; i++) {
      rep.penalise(A, 'invalid-record')
      c.advance(120_000) // two half-lives between offences: points never pile up to 100
    }
    expect(rep.isBanned(A)).toBe(false)
    rep.penalise(B, 'flood', 80)
    c.advance(60_000)
    expect(rep.score(B)).toBeCloseTo(40, 5)
  })

  it('a ban expires after banDuration, and repeated bans last twice as long, capped', () => {
    const c = clock()
    const rep = createPeerReputation({ now: c.now, banDuration: 1000, maxBanDuration: 3000 })
    rep.penalise(A, 'invalid-record', 100)
    expect(rep.isBanned(A)).toBe(true)
    c.advance(999)
    expect(rep.isBanned(A)).toBe(true)
    c.advance(2)
    expect(rep.isBanned(A)).toBe(false)
    expect(rep.penalise(A, 'invalid-record', 100).banned).toBe(true)
    c.advance(1500)
    expect(rep.isBanned(A)).toBe(true) // second ban: 2000 ms
    c.advance(600)
    expect(rep.isBanned(A)).toBe(false)
    rep.penalise(A, 'invalid-record', 100)
    c.advance(2999)
    expect(rep.isBanned(A)).toBe(true) // third: 4000 capped at 3000
    c.advance(2)
    expect(rep.isBanned(A)).toBe(false)
  })

  it('the gater refuses banned peers in every direction and lets others through', async () => {
    const c = clock()
    const rep = createPeerReputation({ now: c.now, banDuration: 5000 })
    rep.ban(A)
    const g = rep.gater
    for (const f of [
      g.denyDialPeer,
      g.denyOutboundConnection,
      g.denyInboundEncryptedConnection,
      g.denyOutboundEncryptedConnection,
      g.denyInboundUpgradedConnection,
      g.denyOutboundUpgradedConnection
    ]) {
      expect(await f(peer(A), {} as never)).toBe(true)
      expect(await f(peer(B), {} as never)).toBe(false)
    }
    c.advance(5001)
    expect(await g.denyDialPeer(peer(A))).toBe(false)
  })

  it('combineGaters refuses when any refuses and keeps other methods', async () => {
    const rep = createPeerReputation()
    rep.ban(A)
    const g = combineGaters(
      { denyDialMultiaddr: () => false, denyDialPeer: (p) => String(p) === B },
      rep.gater
    )
    expect(await g.denyDialPeer?.(peer(A))).toBe(true)
    expect(await g.denyDialPeer?.(peer(B))).toBe(true)
    expect(await g.denyDialMultiaddr?.({} as never)).toBe(false)
    expect(await g.denyInboundEncryptedConnection?.(peer(A), {} as never)).toBe(true)
  })

  it('exempt peers are never banned; listeners hear of bans; unban clears', () => {
    const rep = createPeerReputation({ exempt: [B] })
    const heard: string[] = []
    const off = rep.onBan((i) => heard.push(i.peer))
    rep.penalise(B, 'invalid-record', 1000)
    rep.penalise(A, 'invalid-record', 1000)
    expect(rep.isBanned(B)).toBe(false)
    expect(heard).toEqual([A])
    rep.unban(A)
    expect(rep.isBanned(A)).toBe(false)
    off()
    rep.penalise(A, 'invalid-record', 1000)
    expect(heard).toEqual([A])
  })

  it('refuses bad options and weights with RangeError, and bounds memory', () => {
    expect(() => createPeerReputation({ threshold: 0 })).toThrow(RangeError)
    expect(() => createPeerReputation({ decay: Number.NaN })).toThrow(RangeError)
    const rep = createPeerReputation({ maxTrackedPeers: 100 })
    expect(() => rep.penalise(A, 'flood', -1)).toThrow(RangeError)
    expect(() => rep.penalise(A, 'nonsense' as never)).toThrow(RangeError)
    for (let i = 0; i < 1000; i++) rep.penalise(`peer-${i}`, 'flood', 1)
    expect(rep.stats().trackedPeers).toBeLessThanOrEqual(100)
    rep.ban(A)
    for (let i = 0; i < 1000; i++) rep.penalise(`other-${i}`, 'flood', 1)
    expect(rep.isBanned(A)).toBe(true) // bans survive pruning
  })
})

describe('rate limiter', () => {
  it('lets a burst through, then the sustained rate, per peer', () => {
    const c = clock()
    const rl = createRateLimiter({ burst: 5, ratePerSecond: 2, now: c.now })
    let ok = 0
    for (let i = 0; i < 20; i++) if (rl.tryTake(A)) ok++
    expect(ok).toBe(5)
    expect(rl.tryTake(B)).toBe(true)
    c.advance(1000)
    expect(rl.tryTake(A)).toBe(true)
    expect(rl.tryTake(A)).toBe(true)
    expect(rl.tryTake(A)).toBe(false)
    expect(rl.refused).toBe(16)
    c.advance(60_000)
    expect(rl.available(A)).toBe(5)
  })
})

describe('hooks', () => {
  it('guarded validators name the sender of a refused record and still refuse it', async () => {
    const rep = createPeerReputation()
    const rules = guardRecordRules(
      {
        validators: {
          CHORUS: (_k, v) => {
            if (v[0] !== 1) throw new Error('bad')
          }
        },
        selectors: { CHORUS: () => 0 }
      },
      rep
    )
    const validate = rules.validators.CHORUS!
    await validate(new Uint8Array(), Uint8Array.of(1))
    await expect(inboundPeer.run(A, () => validate(new Uint8Array(), Uint8Array.of(2)))).rejects.toThrow(
      'bad'
    )
    // outside an inbound stream (our own put) nobody is blamed
    await expect(validate(new Uint8Array(), Uint8Array.of(2))).rejects.toThrow('bad')
    expect(rep.score(A)).toBeCloseTo(40, 1)
    expect(rep.stats().penalties['invalid-record']).toBe(1)
  })

  it('guarded protocol handlers refuse floods with RateLimitedError and banned peers with PeerBannedError', async () => {
    const rep = createPeerReputation()
    const limiter = createRateLimiter({ burst: 3, ratePerSecond: 0.001 })
    const handler = guardProtocolHandler(async (req) => req, { reputation: rep, limiter, protocol: '/x' })
    const from = { id: A, multiaddrs: [] }
    let refused = 0
    for (let i = 0; i < 30; i++) {
      try {
        await handler(Uint8Array.of(i), from)
      } catch (err) {
        refused++
        expect(err).toBeInstanceOf(Error)
        expect(['RateLimitedError', 'PeerBannedError']).toContain((err as Error).name)
      }
    }
    expect(refused).toBe(27)
    expect(rep.isBanned(A)).toBe(true) // 10 refused floods x 10 points
    await expect(handler(Uint8Array.of(1), from)).rejects.toBeInstanceOf(PeerBannedError)
    expect(new RateLimitedError(A, '/x').code).toBe('DHT_RATE_LIMITED')
  })
})
