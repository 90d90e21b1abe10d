import { createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hkdfSha256, hmacSha256, macEqual } from '../src/age/kdf.js'

describe('HMAC-SHA256 / HKDF-SHA256 on one-shot SHA-256', () => {
  it('matches createHmac for keys and messages of many lengths', () => {
    for (const keyLen of [0, 1, 16, 32, 63, 64, 65, 200]) {
      for (const msgLen of [0, 1, 55, 64, 1000]) {
        const key = randomBytes(keyLen)
        const a = randomBytes(msgLen)
        const b = randomBytes(7)
        expect(hmacSha256(key, a, b).equals(createHmac('sha256', key).update(a).update(b).digest())).toBe(
          true
        )
      }
    }
  })

  it('matches RFC 4231 test case 2', () => {
    const mac = hmacSha256(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'))
    expect(mac.toString('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
  })

  it('matches hkdfSync (with and without salt, short outputs)', () => {
    for (const saltLen of [0, 16, 64]) {
      for (const len of [16, 32]) {
        const ikm = randomBytes(32)
        const salt = randomBytes(saltLen)
        const info = Buffer.from('age-encryption.org/v1/X25519')
        const want = Buffer.from(hkdfSync('sha256', ikm, salt, info, len))
        expect(hkdfSha256(ikm, salt, info, len).equals(want)).toBe(true)
      }
    }
    expect(() => hkdfSha256(randomBytes(32), Buffer.alloc(0), Buffer.alloc(0), 33)).toThrow(RangeError)
  })

  it('compares MACs of different lengths as unequal', () => {
    expect(macEqual(Buffer.alloc(32), Buffer.alloc(31))).toBe(false)
    expect(macEqual(Buffer.alloc(32, 1), Buffer.alloc(32, 1))).toBe(true)
  })
})
