import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '@chorus/common'
import { keyPeerDistance, keyPosition, xorDistance } from '@chorus/dht'
import { encode } from 'cborg'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultReplicationConfig, log2Distance, sortByDistance } from '../src/index.js'
import { valueDigest } from '../src/proof.js'
import {
  decodeRequest,
  decodeResponse,
  encodePing,
  encodeRequest,
  encodeResponse,
  REFUSAL_TEXT
} from '../src/protocol.js'
import { ReplicationStore } from '../src/store.js'
import { backoffDelay, nextHealthyCheck, SWEPT } from '../src/timing.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

// real Ed25519 peer ids (libp2p's `12D3KooW…` form)
const PEERS = [
  '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA',
  '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq',
  '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo',
  '12D3KooWLBQaYXfZKvKd5M5Ao9hXCP4tJmGzwp8ReZTTuwF2JuS8'
]

describe('defaultReplicationConfig', () => {
  it('has the reference defaults', () => {
    const c = defaultReplicationConfig()
    expect(c).toMatchObject({
      replicationFactor: 3,
      reprovideInterval: 12 * 3600_000,
      cleanupInterval: 3600_000,
      providerTTL: 24 * 3600_000,
      maxProvidersPerKey: 10,
      enableAutoReplication: true,
      enableReprovide: true,
      maxConcurrentReplications: 5
    })
    // republish well before kad-dht's 48 h record expiry
    expect(c.republishInterval).toBeLessThan((48 * 3600_000) / 2)
  })
})

describe('XOR distance', () => {
  it('orders peers by distance to the key and reports the log2 distance', () => {
    const key = '/CHORUS/ucxl/abc'
    const sorted = sortByDistance(key, PEERS)
    expect(new Set(sorted)).toEqual(new Set(PEERS))
    const d = sorted.map((p) => keyPeerDistance(key, p))
    for (let i = 1; i < d.length; i++) expect(d[i - 1]! <= d[i]!).toBe(true)
    for (const x of d) {
      const l = log2Distance(x)
      expect(l).toBeGreaterThan(0)
      expect(l).toBeLessThanOrEqual(256)
      expect(x < 1n << BigInt(l)).toBe(true)
      expect(x >= 1n << BigInt(l - 1)).toBe(true)
    }
    const p = keyPosition(key)
    expect(xorDistance(p, p)).toBe(0n)
    expect(log2Distance(0n)).toBe(0)
  })

  it('puts undecodable peer ids last', () => {
    expect(sortByDistance('/CHORUS/x', ['not-a-peer', PEERS[0]!])).toEqual([PEERS[0], 'not-a-peer'])
  })
})

describe('replicate wire format', () => {
  it('round-trips requests and responses', () => {
    const value = new Uint8Array([1, 2, 3])
    expect(decodeRequest(encodeRequest({ key: '/CHORUS/k', value, priority: 7 }))).toEqual({
      key: '/CHORUS/k',
      value,
      priority: 7
    })
    expect(decodeRequest(encodePing())).toEqual({ op: 'ping' })
    expect(decodeResponse(encodeResponse({ ok: true }))).toEqual({ ok: true })
    // a peer's own refusal text is not kept: this node's fixed text for the code replaces it
    expect(decodeResponse(encodeResponse({ ok: false, code: 'TOO_LARGE', reason: 'big' }))).toEqual({
      ok: false,
      code: 'TOO_LARGE',
      reason: REFUSAL_TEXT.TOO_LARGE
    })
    const proof = new Uint8Array(32).fill(1)
    expect(decodeResponse(encodeResponse({ ok: true, proof }))).toEqual({ ok: true, proof })
    expect(() => decodeResponse(encode({ v: 1, ok: true, proof: new Uint8Array(3) }))).toThrow(/proof/)
    expect(decodeResponse(encode({ v: 1, ok: false, code: 'WHATEVER', reason: 'x' }))).toEqual({
      ok: false,
      code: 'NOT_ACCEPTING',
      reason: REFUSAL_TEXT.NOT_ACCEPTING
    })
  })

  it('refuses malformed requests with a reason that does not repeat the input', () => {
    expect(() => decodeRequest(new Uint8Array([0xff, 0x00]))).toThrow(/CBOR/)
    expect(() => decodeRequest(encode({ v: 2, key: '/a/b', value: new Uint8Array() }))).toThrow(/version/)
    expect(() => decodeRequest(encode({ v: 1, key: 'nokey', value: new Uint8Array() }))).toThrow(/key/)
    expect(() => decodeRequest(encode({ v: 1, key: '/a/b', value: 'text' }))).toThrow(/value/)
    expect(() => decodeRequest(encode({ v: 1, op: 'delete', key: '/a/b' }))).toThrow(/operation/)
    expect(() => decodeRequest(encode({ v: 1, op: 'delete-me-now', key: '/a/b' }))).not.toThrow(/delete-me/)
    expect(() => decodeRequest(encode({ v: 77, key: '/a/b', value: new Uint8Array() }))).not.toThrow(/77/)
  })
})

describe('next check of a healthy key', () => {
  it('is the sweep\u2019s with the sweep on (no per-key timer), else one jittered repair interval away', () => {
    const now = 1_000_000
    const init = { repairInterval: 60_000, jitter: 0.1 }
    expect(nextHealthyCheck({ ...init, enableSweep: true }, now)).toBe(SWEPT)
    expect(nextHealthyCheck({ ...init, enableSweep: true }, now, true)).toBe(SWEPT)
    for (let i = 0; i < 50; i++) {
      const t = nextHealthyCheck({ ...init, enableSweep: false }, now)
      expect(t).toBeGreaterThanOrEqual(now + 54_000)
      expect(t).toBeLessThanOrEqual(now + 66_000)
      // a key just placed: anywhere in the interval, so a burst of keys does not come due at once
      const first = nextHealthyCheck({ ...init, enableSweep: false }, now, true)
      expect(first).toBeGreaterThan(now)
      expect(first).toBeLessThanOrEqual(now + 60_000)
    }
  })
})

describe('back-off', () => {
  it('grows exponentially up to the cap', () => {
    expect(backoffDelay(1, 100, 10_000, 0)).toBe(100)
    expect(backoffDelay(4, 100, 10_000, 0)).toBe(800)
    expect(backoffDelay(40, 100, 10_000, 0)).toBe(10_000)
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(2, 1000, 10_000, 0.2)
      expect(d).toBeGreaterThanOrEqual(1600)
      expect(d).toBeLessThanOrEqual(2400)
    }
  })
})

describe('ReplicationStore', () => {
  it('keeps pins, providers and peer quality across a reopen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-repl-'))
    dirs.push(dir)
    const s1 = new ReplicationStore(dir)
    const row = {
      key: '/CHORUS/k1',
      size: 3,
      priority: 5,
      createdAt: 1000,
      pinned: true,
      origin: 'replica' as const,
      pushedBy: PEERS[3],
      lastReprovided: 2000,
      lastRepublished: undefined,
      lastChecked: undefined,
      lastActual: 2,
      lastHealth: 'degraded' as const,
      repairFailures: 1,
      nextRepairAt: 3000
    }
    s1.upsertContent(row, new Uint8Array([9, 8, 7]))
    s1.touchProvider('/CHORUS/k1', PEERS[0]!, 100)
    s1.touchProvider('/CHORUS/k1', PEERS[1]!, 5000)
    s1.putPeer({ peer: PEERS[0]!, quality: 0.8, lastSeen: 100 })
    s1.recordProof('/CHORUS/k1', PEERS[1]!, new Uint8Array(32).fill(4), 5000)
    // an update without a value keeps the pinned value
    s1.upsertContent({ ...row, priority: 6 })
    s1.close()

    const s2 = new ReplicationStore(dir)
    expect(s2.getContent('/CHORUS/k1')).toMatchObject({ ...row, priority: 6 })
    expect(s2.getValue('/CHORUS/k1')).toEqual(new Uint8Array([9, 8, 7]))
    expect(s2.getDigest('/CHORUS/k1')).toEqual(valueDigest(new Uint8Array([9, 8, 7])))
    expect(s2.providers('/CHORUS/k1').find((p) => p.peer === PEERS[1])).toMatchObject({
      proofDigest: new Uint8Array(32).fill(4),
      provenAt: 5000,
      announced: false
    })
    expect(s2.provenPeers('/CHORUS/k1')).toEqual([PEERS[1]])
    expect(
      s2
        .providers('/CHORUS/k1')
        .map((p) => p.peer)
        .sort()
    ).toEqual([PEERS[0], PEERS[1]].sort())
    expect(s2.getPeer(PEERS[0]!)).toEqual({ peer: PEERS[0], quality: 0.8, lastSeen: 100 })
    // cleanup: entries older than the TTL go, then at most N per key remain
    expect(s2.expireProviders(1000)).toBe(1)
    s2.touchProvider('/CHORUS/k1', PEERS[2]!, 6000)
    // a proven provider outlasts a more recently seen one nobody checked
    expect(s2.capProviders(1)).toBe(1)
    expect(s2.providers('/CHORUS/k1').map((p) => p.peer)).toEqual([PEERS[1]])
    s2.deleteContent('/CHORUS/k1')
    expect(s2.getContent('/CHORUS/k1')).toBeUndefined()
    expect(s2.countProviders()).toBe(0)
    s2.close()
  })

  it('adds the columns of quotas and proofs to a database of the first schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-repl-'))
    dirs.push(dir)
    const old = openDatabase(join(dir, 'replication.sqlite'))
    old.exec(`CREATE TABLE content (key TEXT PRIMARY KEY, size INTEGER NOT NULL, priority INTEGER NOT NULL,
      created_at INTEGER NOT NULL, value BLOB, origin TEXT NOT NULL, last_reprovided INTEGER,
      last_republished INTEGER, last_checked INTEGER, last_actual INTEGER, last_health TEXT,
      repair_failures INTEGER NOT NULL DEFAULT 0, next_repair_at INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE providers (key TEXT NOT NULL, peer TEXT NOT NULL, added_at INTEGER NOT NULL,
      last_seen INTEGER NOT NULL, PRIMARY KEY (key, peer));
      INSERT INTO content (key, size, priority, created_at, value, origin) VALUES ('/CHORUS/old', 2, 1, 1, x'0102', 'replica');
      INSERT INTO providers VALUES ('/CHORUS/old', '${PEERS[0]}', 1, 1);`)
    old.close()
    const s = new ReplicationStore(dir)
    expect(s.getContent('/CHORUS/old')).toMatchObject({ pinned: true, pushedBy: undefined })
    expect(s.getDigest('/CHORUS/old')).toEqual(valueDigest(new Uint8Array([1, 2])))
    expect(s.providers('/CHORUS/old')).toEqual([
      {
        key: '/CHORUS/old',
        peer: PEERS[0],
        addedAt: 1,
        lastSeen: 1,
        announced: false,
        proofDigest: undefined,
        provenAt: undefined
      }
    ])
    s.close()
  })
})
