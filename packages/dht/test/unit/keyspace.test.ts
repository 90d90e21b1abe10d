import { createHash, randomBytes } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import { describe, expect, it } from 'vitest'
import { keyPosition, log2Distance, peerPosition, sortByDistance, xorDistance } from '../../src/keyspace.js'

/** The distance spelled out: the XOR's bytes as one big-endian hexadecimal number. */
const reference = (a: Uint8Array, b: Uint8Array): bigint =>
  BigInt(`0x${Buffer.from(a.map((v, i) => v ^ (b[i] ?? 0))).toString('hex')}`)

/** A peer id as kad-dht writes it: an identity multihash of an Ed25519 key, in base58btc. */
const peerId = (): string =>
  base58btc.baseEncode(Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...randomBytes(32)]))

describe('key space', () => {
  it('measures the XOR distance of two positions as a 256-bit number', () => {
    for (let i = 0; i < 200; i++) {
      const a = randomBytes(32)
      const b = randomBytes(32)
      expect(xorDistance(a, b)).toBe(reference(a, b))
    }
    const a = randomBytes(32)
    expect(xorDistance(a, a)).toBe(0n)
    expect(xorDistance(new Uint8Array(32), new Uint8Array(32).fill(0xff))).toBe((1n << 256n) - 1n)
    expect(
      log2Distance(xorDistance(new Uint8Array(32), Uint8Array.from([0x80, ...new Uint8Array(31)])))
    ).toBe(256)
  })

  it('places a peer by the SHA-256 of its multihash, the same position on every call', () => {
    const id = peerId()
    const expected = createHash('sha256').update(base58btc.baseDecode(id)).digest()
    expect(Buffer.from(peerPosition(id) ?? []).equals(expected)).toBe(true)
    expect(peerPosition(id)).toEqual(expected)
    expect(peerPosition('not base58 0OIl')).toBeUndefined()
    expect(peerPosition('not base58 0OIl')).toBeUndefined()
  })

  it('sorts peers nearest the key first, and those that do not decode last', () => {
    const ids = Array.from({ length: 30 }, peerId)
    const key = '/CHORUS/ucxl/abc'
    const target = keyPosition(key)
    const sorted = sortByDistance(key, ['bogus!', ...ids])
    expect(sorted.at(-1)).toBe('bogus!')
    const distances = sorted
      .slice(0, -1)
      .map((id) => reference(target, peerPosition(id) ?? new Uint8Array(32)))
    expect(distances).toEqual([...distances].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
    expect(sortByDistance(key, ['bogus!', ...ids], { dropUndecodable: true })).toHaveLength(30)
  })
})
