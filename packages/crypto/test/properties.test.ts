import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CiphertextIntegrityError, CryptoError, DecryptionDeniedError } from '../src/index.js'
import { makeCluster } from './helpers.js'

// Properties over random contents and random damage: round trips always hold, and a ciphertext
// changed anywhere never decrypts (it fails with a typed error instead).

const cluster = makeCluster()
const writer = cluster.node('backend_developer')
const reader = cluster.node('devops_engineer')

describe('properties', () => {
  it('any content round-trips, binary and armored', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 140_000 }), fc.boolean(), async (data, armor) => {
        const ct = await writer.crypto.encryptUCXLContent(data, 'backend_developer', { armor })
        const out = await reader.crypto.decryptWithRole(ct)
        expect(Buffer.from(out.plaintext).equals(Buffer.from(data))).toBe(true)
      }),
      { numRuns: 40 }
    )
  })

  it('flipping any bit of a ciphertext makes decryption fail with a typed error', async () => {
    const data = new TextEncoder().encode('a decision that must not be altered '.repeat(40))
    const ct = Buffer.from(await writer.crypto.encryptUCXLContent(data, 'backend_developer'))
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: ct.length * 8 - 1 }), async (bit) => {
        const bad = Buffer.from(ct)
        bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7))
        const err = await reader.crypto.decryptWithRole(bad).then(
          () => undefined,
          (e: unknown) => e
        )
        expect(err).toBeInstanceOf(CryptoError)
        expect(err instanceof CiphertextIntegrityError || err instanceof DecryptionDeniedError).toBe(true)
      }),
      { numRuns: 300 }
    )
  })

  it('random bytes never decrypt and never crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (junk) => {
        const prefixed = Buffer.concat([Buffer.from('age-encryption.org/v1\n-> X25519 '), junk])
        for (const input of [junk, prefixed]) {
          const err = await reader.crypto.decryptWithRole(input).then(
            () => undefined,
            (e: unknown) => e
          )
          expect(err).toBeInstanceOf(CryptoError)
        }
      }),
      { numRuns: 200 }
    )
  })
})
