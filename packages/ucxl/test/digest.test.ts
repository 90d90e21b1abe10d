import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  addressDigest,
  DHT_KEY_PREFIX,
  dhtKey,
  headKey,
  parseRecordKey,
  UCXLAddressError,
  versionKey
} from '../src/index.js'

// The reference's Go: base64.URLEncoding.EncodeToString(sha256.Sum256(addr)), i.e. base64url with padding.
function goStyle(text: string): string {
  const raw = createHash('sha256').update(text).digest()
  const unpadded = raw.toString('base64url')
  return unpadded + '='.repeat((4 - (unpadded.length % 4)) % 4)
}

const SPELLINGS = [
  'ucxl://agent001:backend_developer@project123:task456/*^/decision',
  'ucxl://agent001/backend_developer/project123/task456/decision',
  'UCXL://agent001:backend_developer@project123:task456/decision/',
  'ucxl://agent001:backend_developer@project123:task456//*^//decision',
  // Other versions of the same content share the digest.
  'ucxl://agent001:backend_developer@project123:task456/~~2/decision',
  'ucxl://agent001/backend_developer/project123/task456/*~0007/decision'
]

describe('addressDigest and dhtKey', () => {
  it('hash the canonical address without temporal, base64url with padding', () => {
    const digest = addressDigest(SPELLINGS[0]!)
    expect(digest).toBe(goStyle('ucxl://agent001:backend_developer@project123:task456/decision'))
    expect(digest).toHaveLength(44)
    expect(digest.endsWith('=')).toBe(true)
    expect(digest).toMatch(/^[A-Za-z0-9_-]{43}=$/)
    expect(dhtKey(SPELLINGS[0]!)).toBe(`${DHT_KEY_PREFIX}${digest}`)
    expect(DHT_KEY_PREFIX).toBe('/CHORUS/ucxl/')
  })

  it('give one digest for every spelling and version of one address', () => {
    const digests = new Set(SPELLINGS.map((s) => addressDigest(s)))
    expect(digests.size).toBe(1)
    expect(new Set(SPELLINGS.map((s) => dhtKey(s))).size).toBe(1)
  })

  it('tell different addresses apart', () => {
    const others = [
      'ucxl://agent001:backend_developer@project123:task456/*^/decision2',
      'ucxl://agent001:backend_developer@project123:task456/*^',
      'ucxl://agent002:backend_developer@project123:task456/*^/decision',
      'ucxl://any:backend_developer@project123:task456/*^/decision',
      'ucxl://Agent001:backend_developer@project123:task456/*^/decision',
      'ucxl://agent001:backend_developer@project123:task456/*^/decision/x'
    ]
    const digests = new Set([SPELLINGS[0]!, ...others].map((s) => addressDigest(s)))
    expect(digests.size).toBe(others.length + 1)
  })

  it('hash `*` and `any` components alike', () => {
    expect(addressDigest('ucxl://*:r@p:t/x')).toBe(addressDigest('ucxl://any:r@p:t/*^/x'))
  })

  it('take parsed objects', () => {
    expect(
      addressDigest({
        agent: 'a',
        role: 'r',
        project: 'p',
        task: 't',
        temporal: { kind: 'first' },
        path: 'x'
      })
    ).toBe(goStyle('ucxl://a:r@p:t/x'))
  })

  it('refuse invalid addresses', () => {
    expect(() => dhtKey('ucxl://a:r@p:t/*^/../x')).toThrow(UCXLAddressError)
    expect(() => addressDigest('nope')).toThrow(UCXLAddressError)
  })
})

describe('record keys', () => {
  const digest = addressDigest(SPELLINGS[0]!)

  it('lay out the head and version keys under the DHT key prefix', () => {
    expect(headKey(digest)).toBe(dhtKey(SPELLINGS[0]!))
    expect(versionKey(digest, 7)).toBe(`${DHT_KEY_PREFIX}${digest}/v/7`)
  })

  it('parse back what they lay out, and nothing else', () => {
    expect(parseRecordKey(headKey(digest))).toEqual({ digest })
    expect(parseRecordKey(versionKey(digest, 12))).toEqual({ digest, version: 12 })
    for (const key of [
      '/CHORUS/other/x',
      `${DHT_KEY_PREFIX}short`,
      `${headKey(digest)}/v/0`,
      `${headKey(digest)}/v/01`,
      `${headKey(digest)}/v/12345678901`,
      `${headKey(digest)}/x/1`,
      `${headKey(digest)}/v/1/more`,
      `${DHT_KEY_PREFIX}${'a'.repeat(200)}`
    ]) {
      expect(parseRecordKey(key)).toBeNull()
    }
    expect(parseRecordKey(42 as unknown as string)).toBeNull()
  })
})
