import { encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import {
  decodeEnvelope,
  ENVELOPE_FORMAT,
  encodeEnvelope,
  envelopeHash,
  envelopeName,
  MAX_CERTIFICATE_BYTES,
  openEnvelope,
  signingBytes,
  verifyEnvelope
} from '../src/envelope.js'
import { InvalidEnvelopeError, MalformedEnvelopeError } from '../src/errors.js'
import { ageShaped, BASE, makeSigner, sampleEnvelope } from './helpers.js'

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
      ciphertext: Uint8Array.from(envelope.ciphertext, (b, i) =>
        i === envelope.ciphertext.length - 3 ? b ^ 1 : b
      )
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

  it('names the address and version of an encoding, and refuses one that names none', async () => {
    const { bytes } = await sampleEnvelope(makeSigner())
    expect(envelopeName(bytes)).toEqual({ address: BASE, version: 1 })
    for (const bad of [
      new Uint8Array([0xff, 0x00, 0x13]),
      encode({ address: 7, version: 1 }),
      encode({ address: BASE, version: 0 }),
      encode([BASE, 1])
    ]) {
      expect(() => envelopeName(bad)).toThrow(MalformedEnvelopeError)
    }
    expect(() => envelopeName(bytes, bytes.byteLength - 1)).toThrow(MalformedEnvelopeError)
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
      ['format 3', encode({ ...envelope, format: 3 })],
      // format 1, as written before the certificate: no certificate field, format 1
      ['format 1', encode({ ...envelope, format: 1, certificate: undefined })],
      ['format 1 with the new fields', encode({ ...envelope, format: 1 })],
      [
        'missing certificate',
        encode(Object.fromEntries(Object.entries(envelope).filter(([k]) => k !== 'certificate')))
      ],
      ['certificate not bytes', encode({ ...envelope, certificate: 'cert' })],
      ['empty certificate', encode({ ...envelope, certificate: new Uint8Array(0) })],
      [
        'oversized certificate',
        encode({ ...envelope, certificate: new Uint8Array(MAX_CERTIFICATE_BYTES + 1) })
      ],
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
    const reordered = new Uint8Array([0xa9, ...parts.flatMap(([k, v]) => [...encode(k), ...encode(v)])])
    expect(() => decodeEnvelope(reordered)).toThrow(/canonical/)
  })

  it('format 2 carries the certificate, signed: changing any field of it is refused', async () => {
    const signer = makeSigner()
    const certificate = new Uint8Array(300).fill(7)
    const { envelope, bytes } = await sampleEnvelope(signer, { certificate })
    expect(envelope.format).toBe(ENVELOPE_FORMAT)
    expect(ENVELOPE_FORMAT).toBe(2)
    const back = openEnvelope(bytes)
    expect(back.certificate).toEqual(certificate)
    const none = await sampleEnvelope(signer)
    expect(openEnvelope(none.bytes).certificate).toBeNull()
    // a certificate of the maximum size is fine
    const max = await sampleEnvelope(signer, { certificate: new Uint8Array(MAX_CERTIFICATE_BYTES) })
    expect(openEnvelope(max.bytes).certificate?.byteLength).toBe(MAX_CERTIFICATE_BYTES)
    const flip = (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 0 ? x ^ 1 : x))
    // in the payload: a flipped header byte is refused as malformed before any hash
    const flipLast = (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === b.length - 1 ? x ^ 1 : x))
    const m = envelope.metadata
    const tampered: [string, typeof envelope][] = [
      ['format', { ...envelope, format: 1 }],
      ['address', { ...envelope, address: BASE.replace('agent001', 'agent002') }],
      ['version', { ...envelope, version: 2, previous: new Uint8Array(32) }],
      ['creatorRole', { ...envelope, metadata: { ...m, creatorRole: 'senior_architect' } }],
      ['encryptedFor', { ...envelope, metadata: { ...m, encryptedFor: ['backend_developer'] } }],
      ['contentType', { ...envelope, metadata: { ...m, contentType: 'suggestion' } }],
      ['timestamp', { ...envelope, metadata: { ...m, timestamp: m.timestamp - 1 } }],
      ['size', { ...envelope, metadata: { ...m, size: m.size - 1 } }],
      ['ciphertextHash', { ...envelope, metadata: { ...m, ciphertextHash: flip(m.ciphertextHash) } }],
      ['ciphertext', { ...envelope, ciphertext: flipLast(envelope.ciphertext) }],
      ['author', { ...envelope, author: makeSigner().publicKey }],
      ['certificate changed', { ...envelope, certificate: flip(certificate) }],
      ['certificate removed', { ...envelope, certificate: null }],
      ['certificate swapped', { ...envelope, certificate: new Uint8Array(300).fill(8) }],
      ['signature', { ...envelope, signature: flip(envelope.signature) }]
    ]
    for (const [what, e] of tampered) {
      expect(() => openEnvelope(encodeEnvelope(e)), what).toThrow(/malformed|invalid/)
    }
    // the signing bytes cover the certificate and are domain-separated for format 2
    const text = new TextDecoder().decode(signingBytes(envelope).subarray(0, 19))
    expect(text).toBe('CHORUS-ENVELOPE-v2\n')
  })

  it('enforces the size limit before decoding', async () => {
    const signer = makeSigner()
    const ciphertext = ageShaped(new Uint8Array(5000))
    const { bytes } = await sampleEnvelope(signer, {}, ciphertext)
    expect(() => decodeEnvelope(bytes, { maxBytes: 1000 })).toThrow(/limit/)
    expect(decodeEnvelope(bytes, { maxBytes: 10_000 }).ciphertext.byteLength).toBe(ciphertext.byteLength)
  })
})
