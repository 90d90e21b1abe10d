import { addressDigest } from '@chorus/ucxl'
import { describe, expect, it } from 'vitest'
import { headKey, parseRecordKey, versionKey } from '../src/address.js'
import { encodeEnvelope } from '../src/envelope.js'
import { AccessDeniedError } from '../src/errors.js'
import type { AuthoredRecord } from '../src/record-check.js'
import { CHORUS_NAMESPACE, chorusRecordRules, validateChorusRecord } from '../src/records.js'
import { BASE, makeSigner, sampleEnvelope } from './helpers.js'

const enc = new TextEncoder()
const digest = addressDigest(BASE)

describe('CHORUS record rules', () => {
  const rules = chorusRecordRules()
  const validate = rules.validators[CHORUS_NAMESPACE]!
  const select = rules.selectors[CHORUS_NAMESPACE]!

  it('parses the key layout', () => {
    expect(parseRecordKey(headKey(digest))).toEqual({ digest })
    expect(parseRecordKey(versionKey(digest, 12))).toEqual({ digest, version: 12 })
    for (const bad of [
      '/CHORUS/ucxl/',
      '/CHORUS/other/x',
      `${headKey(digest)}/v/0`,
      `${headKey(digest)}/v/01`,
      `${headKey(digest)}/x/1`
    ]) {
      expect(parseRecordKey(bad), bad).toBeNull()
    }
  })

  it('accepts a valid envelope under its head and version keys', async () => {
    const { bytes } = await sampleEnvelope(makeSigner())
    await validate(enc.encode(headKey(digest)), bytes)
    await validate(enc.encode(versionKey(digest, 1)), bytes)
  })

  it('refuses wrong keys, wrong versions, tampering, bad signatures and oversize', async () => {
    const signer = makeSigner()
    const { envelope, bytes } = await sampleEnvelope(signer)
    const otherDigest = addressDigest('ucxl://agent002:backend_developer@project123:task456/decision')
    await expect(validate(enc.encode(headKey(otherDigest)), bytes)).rejects.toThrow(/digest/)
    await expect(validate(enc.encode(versionKey(digest, 2)), bytes)).rejects.toThrow(/version/)
    await expect(validate(enc.encode('/CHORUS/role/x'), bytes)).rejects.toThrow(/not a CHORUS ucxl key/)
    const tampered = Uint8Array.from(bytes)
    const at =
      Buffer.from(bytes).indexOf(Buffer.from(envelope.ciphertext)) + envelope.ciphertext.byteLength - 2
    tampered[at] = (tampered[at] ?? 0) ^ 0xff
    await expect(validate(enc.encode(headKey(digest)), tampered)).rejects.toThrow(/hash/)
    const forged = encodeEnvelope({ ...envelope, signature: new Uint8Array(64) })
    await expect(validate(enc.encode(headKey(digest)), forged)).rejects.toThrow(/signature/)
    const small = chorusRecordRules({ maxRecordBytes: 100 }).validators[CHORUS_NAMESPACE]!
    await expect(small(enc.encode(headKey(digest)), bytes)).rejects.toThrow(/limit/)
    await expect(validate(enc.encode(headKey(digest)), enc.encode('hello'))).rejects.toThrow(/malformed/)
  })

  it('delegates other CHORUS keys to the fallback', async () => {
    const seen: string[] = []
    const r = chorusRecordRules({ fallbackValidator: (k) => void seen.push(new TextDecoder().decode(k)) })
    await r.validators[CHORUS_NAMESPACE]!(enc.encode('/CHORUS/role/x'), enc.encode('v'))
    expect(seen).toEqual(['/CHORUS/role/x'])
  })

  it('selects the highest version, then the lowest hash; a timestamp decides nothing', async () => {
    const signer = makeSigner()
    const v1 = await sampleEnvelope(signer)
    const v2 = await sampleEnvelope(signer, { version: 2, previous: v1.hash })
    const key = enc.encode(headKey(digest))
    expect(select(key, [v1.bytes, v2.bytes])).toBe(1)
    expect(select(key, [v2.bytes, v1.bytes])).toBe(0)
    expect(select(key, [enc.encode('junk'), v1.bytes])).toBe(1)
    // copies of version 2 that differ only in their timestamp: the lowest hash wins, whichever is
    // earlier, so backdating a copy wins nothing
    const copies = [v2]
    for (const dt of [-1_000_000, -1, 5, 1_000_000]) {
      copies.push(
        await sampleEnvelope(signer, {
          version: 2,
          previous: v1.hash,
          metadata: { ...v2.envelope.metadata, timestamp: v2.envelope.metadata.timestamp + dt }
        })
      )
    }
    const lowest = [...copies].sort((a, b) => Buffer.compare(a.hash, b.hash))[0]!
    for (const order of [copies, [...copies].reverse()]) {
      expect(
        order[
          select(
            key,
            order.map((c) => c.bytes)
          )
        ]
      ).toBe(lowest)
    }
  })

  it('prefers the predecessor over a successor chained to it by another author (forged)', async () => {
    const author = makeSigner()
    const forger = makeSigner()
    const v1 = await sampleEnvelope(author)
    const v2 = await sampleEnvelope(author, { version: 2, previous: v1.hash })
    const forged3 = await sampleEnvelope(forger, { version: 3, previous: v2.hash })
    const genuine3 = await sampleEnvelope(author, { version: 3, previous: v2.hash })
    const key = enc.encode(headKey(digest))
    expect(select(key, [v2.bytes, forged3.bytes])).toBe(0)
    expect(select(key, [forged3.bytes, v2.bytes])).toBe(1)
    expect(select(key, [v2.bytes, genuine3.bytes])).toBe(1)
    // without the predecessor in the set the selector cannot tell: the highest version wins
    expect(select(key, [v1.bytes, forged3.bytes])).toBe(1)
  })

  it('team mode: the validator asks the authority with the record fields, and refuses what it refuses', async () => {
    const signer = makeSigner()
    const certificate = new Uint8Array([1, 2, 3])
    const { bytes, envelope } = await sampleEnvelope(signer, { certificate })
    const seen: AuthoredRecord[] = []
    let allow = true
    const authority = {
      authorizeWrite(record: AuthoredRecord) {
        seen.push(record)
        if (!allow) throw new Error('not a member')
      }
    }
    const teamValidate = chorusRecordRules({ authority }).validators[CHORUS_NAMESPACE]!
    await teamValidate(enc.encode(headKey(digest)), bytes)
    expect(seen).toEqual([
      {
        address: BASE,
        creatorRole: 'backend_developer',
        author: signer.publicKey,
        certificate,
        // the time it was signed: a team judges a revoked author by it
        timestamp: envelope.metadata.timestamp
      }
    ])
    allow = false
    await expect(teamValidate(enc.encode(headKey(digest)), bytes)).rejects.toBeInstanceOf(AccessDeniedError)
    // validateChorusRecord takes the authority too; the size limit alone still works
    expect(() => validateChorusRecord(headKey(digest), bytes, { authority })).toThrow(AccessDeniedError)
    expect(validateChorusRecord(headKey(digest), bytes, 1_000_000).version).toBe(1)
    expect(() => validateChorusRecord(headKey(digest), bytes, 100)).toThrow(/limit/)
    // a bad record never reaches the authority
    const before = seen.length
    await expect(teamValidate(enc.encode(versionKey(digest, 2)), bytes)).rejects.toThrow(/version/)
    expect(seen.length).toBe(before)
    // an authority that answers later cannot be waited for: refused (fail closed)
    const later = { authorizeWrite: async () => undefined }
    expect(() => validateChorusRecord(headKey(digest), bytes, { authority: later })).toThrow(/synchronously/)
  })
})
