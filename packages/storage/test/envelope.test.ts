import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import {
  decodeEnvelope,
  encodeEnvelope,
  envelopeHash,
  openEnvelope,
  signingBytes,
  verifyEnvelope
} from '../src/envelope.js'
import { InvalidEnvelopeError, MalformedEnvelopeError } from '../src/errors.js'
import { BASE, makeSigner, sampleEnvelope } from './helpers.js'

describe('envelope', () => {
  it('round-trips through the canonical encoding and verifies', async () => {
    const signer = makeSigner()
    const { envelope, bytes, hash } = await sampleEnvelope(signer)
    const back = openEnvelope(bytes)
    expect(back.address).toBe(BASE)
    expect(back.version).toBe(1)
    expect(back.previous).toBeNull()
    expect(back.metadata.encryptedFor).toEqual(envelope.metadata.encryptedFor)
    expect(Buffer.from(encodeEnvelope(back)).equals(bytes)).toBe(true)
    expect(Buffer.from(envelopeHash(bytes)).equals(hash)).toBe(true)
    // deterministic: signing bytes do not depend on object key order
    const shuffled = { ...envelope, metadata: { ...envelope.metadata } }
    expect(Buffer.from(signingBytes(shuffled)).equals(signingBytes(back))).toBe(true)
  })

  it('refuses tampered ciphertext, a forged signature and a swapped author', async () => {
    const signer = makeSigner()
    const { envelope } = await sampleEnvelope(signer)
    const tampered = {
      ...envelope,
      ciphertext: Uint8Array.from(envelope.ciphertext, (b, i) => (i === 3 ? b ^ 1 : b))
    }
    expect(() => verifyEnvelope(decodeEnvelope(encodeEnvelope(tampered)))).toThrow(InvalidEnvelopeError)
    const badSig = {
      ...envelope,
      signature: Uint8Array.from(envelope.signature, (b, i) => (i === 0 ? b ^ 1 : b))
    }
    expect(() => openEnvelope(encodeEnvelope(badSig))).toThrow(/signature/)
    const other = makeSigner()
    const swapped = { ...envelope, author: other.publicKey }
    expect(() => openEnvelope(encodeEnvelope(swapped))).toThrow(/signature/)
    // metadata edits break the signature too
    const edited = { ...envelope, metadata: { ...envelope.metadata, creatorRole: 'senior_architect' } }
    expect(() => openEnvelope(encodeEnvelope(edited))).toThrow(/signature/)
  })

  it('refuses malformed input with MalformedEnvelopeError', async () => {
    const signer = makeSigner()
    const { envelope, bytes } = await sampleEnvelope(signer)
    const bad: [string, Uint8Array][] = [
      ['empty', new Uint8Array()],
      ['garbage', new Uint8Array([0xff, 0x00, 0x13])],
      ['trailing bytes', Uint8Array.from([...bytes, 0])],
      ['not a map', encode([1, 2, 3])],
      ['extra field', encode({ ...envelope, extra: 1 })],
      ['missing field', encode({ ...envelope, signature: undefined })],
      ['format 2', encode({ ...envelope, format: 2 })],
      ['version 0', encode({ ...envelope, version: 0 })],
      ['float version', encode({ ...envelope, version: 1.5 })],
      ['v1 with previous', encode({ ...envelope, previous: new Uint8Array(32) })],
      ['v2 without previous', encode({ ...envelope, version: 2 })],
      ['short author', encode({ ...envelope, author: new Uint8Array(31) })],
      ['short signature', encode({ ...envelope, signature: new Uint8Array(10) })],
      [
        'temporal in address',
        encode({ ...envelope, address: `${BASE.replace('/decision', '/*^/decision')}` })
      ],
      [
        'non-canonical address',
        encode({ ...envelope, address: 'ucxl://agent001/backend_developer/project123/task456/decision' })
      ],
      ['bad address', encode({ ...envelope, address: 'http://x' })],
      ['bad role', encode({ ...envelope, metadata: { ...envelope.metadata, creatorRole: 'a b' } })],
      [
        'duplicate roles',
        encode({ ...envelope, metadata: { ...envelope.metadata, encryptedFor: ['a', 'a'] } })
      ],
      ['no roles', encode({ ...envelope, metadata: { ...envelope.metadata, encryptedFor: [] } })],
      ['size above ciphertext', encode({ ...envelope, metadata: { ...envelope.metadata, size: 10_000 } })],
      [
        'short hash',
        encode({ ...envelope, metadata: { ...envelope.metadata, ciphertextHash: new Uint8Array(3) } })
      ]
    ]
    for (const [what, input] of bad) {
      expect(() => decodeEnvelope(input), what).toThrow(MalformedEnvelopeError)
    }
    // non-canonical map order: same data, keys in another order (cborg sorts; build by hand)
    const parts = Object.entries(envelope).reverse()
    const reordered = new Uint8Array([0xa8, ...parts.flatMap(([k, v]) => [...encode(k), ...encode(v)])])
    expect(() => decodeEnvelope(reordered)).toThrow(/canonical/)
  })

  it('enforces the size limit before decoding', async () => {
    const signer = makeSigner()
    const { bytes } = await sampleEnvelope(signer, {}, new Uint8Array(5000))
    expect(() => decodeEnvelope(bytes, { maxBytes: 1000 })).toThrow(/limit/)
    expect(decodeEnvelope(bytes, { maxBytes: 10_000 }).ciphertext.byteLength).toBe(5000)
  })
})
