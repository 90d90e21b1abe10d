import type { LocalDHT } from '@chorus/dht'
import { addressDigest } from '@chorus/ucxl'
import { beforeAll, describe, expect, it } from 'vitest'
import { headKey, versionKey } from '../src/address.js'
import {
  decodeRequest,
  encodeMessage,
  handleGet,
  handlePut,
  MAX_RECORDS,
  MAX_REQUEST_BYTES,
  type PutHandlerComponents,
  parsePutResponse
} from '../src/direct/index.js'
import { encodeEnvelope, openEnvelope } from '../src/envelope.js'
import { createRecordCheck } from '../src/record-check.js'
import { checkSuccession } from '../src/succession.js'
import { BASE, makeSigner, sampleEnvelope, useLocalDHT } from './helpers.js'

const digest = addressDigest(BASE)

describe('decodeRequest (the edge)', () => {
  const value = new Uint8Array([1, 2, 3])

  it('decodes a get and a put', () => {
    expect(decodeRequest(encodeMessage({ op: 'get', key: '/CHORUS/ucxl/x' }))).toEqual({
      op: 'get',
      key: '/CHORUS/ucxl/x'
    })
    expect(decodeRequest(encodeMessage({ op: 'put', records: [{ key: 'k', value }] }))).toEqual({
      op: 'put',
      records: [{ key: 'k', value }]
    })
  })

  it('refuses malformed, oversized and out-of-bounds requests', () => {
    const bad: Array<[string, Uint8Array]> = [
      ['not CBOR', new Uint8Array([0xff])],
      ['not a map', encodeMessage([1, 2])],
      ['null', encodeMessage(null)],
      ['unknown op', encodeMessage({ op: 'delete', key: 'k' })],
      ['get without key', encodeMessage({ op: 'get' })],
      ['get with a byte key', encodeMessage({ op: 'get', key: value })],
      ['put without records', encodeMessage({ op: 'put', records: [] })],
      [
        'too many records',
        encodeMessage({
          op: 'put',
          records: Array.from({ length: MAX_RECORDS + 1 }, () => ({ key: 'k', value }))
        })
      ],
      ['record value not bytes', encodeMessage({ op: 'put', records: [{ key: 'k', value: 'text' }] })],
      ['record without key', encodeMessage({ op: 'put', records: [{ value }] })],
      [
        'duplicate map keys',
        new Uint8Array([
          0xa2, 0x62, 0x6f, 0x70, 0x63, 0x67, 0x65, 0x74, 0x62, 0x6f, 0x70, 0x63, 0x67, 0x65, 0x74
        ])
      ],
      ['a tag', new Uint8Array([0xc1, 0x00])],
      ['oversized', new Uint8Array(MAX_REQUEST_BYTES + 1)]
    ]
    for (const [what, bytes] of bad) expect(() => decodeRequest(bytes), what).toThrow()
  })
})

describe('parsePutResponse (the client side)', () => {
  it('returns ok, or a known refusal code with its fixed text; anything else is NOT_STORED', () => {
    expect(parsePutResponse({ ok: true })).toEqual({ ok: true })
    expect(parsePutResponse({ ok: false, code: 'EQUIVOCATION', error: 'whatever the peer wrote' })).toEqual({
      ok: false,
      code: 'EQUIVOCATION',
      error: 'the record contradicts the one held'
    })
    for (const junk of [null, 7, { ok: false }, { ok: 'true' }, { ok: false, code: 'toString' }]) {
      expect(parsePutResponse(junk)).toMatchObject({ ok: false, code: 'NOT_STORED' })
    }
  })
})

describe('handlers', () => {
  const local = useLocalDHT()
  let dht: LocalDHT
  let c: PutHandlerComponents
  beforeAll(() => {
    dht = local.dht
    c = {
      dht,
      check: createRecordCheck(),
      succession: (key, held, incoming) => checkSuccession(key, held, incoming, false)
    }
  })

  it('get: answers the held record, null for a missing or a non-CHORUS key', async () => {
    const { bytes } = await sampleEnvelope(makeSigner())
    await dht.putValue(versionKey(digest, 1), bytes, { localOnly: true })
    expect((await handleGet(c, { op: 'get', key: versionKey(digest, 1) })).value).toEqual(bytes)
    expect(await handleGet(c, { op: 'get', key: versionKey(digest, 7) })).toEqual({ value: null })
    expect(await handleGet(c, { op: 'get', key: '/CHORUS/other' })).toEqual({ value: null })
    expect(await handleGet(c, { op: 'get', key: '../../etc/passwd' })).toEqual({ value: null })
  })

  it('put: stores valid records, keeps the same bytes once, refuses a rollback as stale', async () => {
    const signer = makeSigner()
    const other = `ucxl://agent001:backend_developer@project123:task456/put-${Date.now()}`
    const d = addressDigest(other)
    const v1 = await sampleEnvelope(signer, { address: other })
    const v2 = await sampleEnvelope(signer, { address: other, version: 2, previous: v1.hash })
    const put = (key: string, value: Uint8Array) => handlePut(c, { op: 'put', records: [{ key, value }] })
    expect(await put(headKey(d), v2.bytes)).toEqual({ ok: true })
    expect(await put(headKey(d), v2.bytes)).toEqual({ ok: true })
    expect(await put(headKey(d), v1.bytes)).toEqual({
      ok: false,
      code: 'STALE_RECORD',
      error: 'the record is older than the one held'
    })
    expect(openEnvelope(await dht.getValue(headKey(d), { localOnly: true })).version).toBe(2)
  })

  it('put: refuses forged, mismatched and junk records and stores none of them', async () => {
    const v1 = await sampleEnvelope(makeSigner())
    const forged = encodeEnvelope({ ...v1.envelope, signature: new Uint8Array(64) })
    const put = (key: string, value: Uint8Array) => handlePut(c, { op: 'put', records: [{ key, value }] })
    // a code and a fixed text, never the validator's message
    expect(await put(versionKey(digest, 3), forged)).toEqual({
      ok: false,
      code: 'INVALID_RECORD',
      error: 'the record failed validation'
    })
    expect((await put(versionKey(digest, 2), v1.bytes)).ok).toBe(false) // version key of another version
    expect((await put(headKey(digest), new TextEncoder().encode('junk'))).ok).toBe(false)
    await expect(dht.getValue(versionKey(digest, 3), { localOnly: true })).rejects.toThrow()
  })

  it('get: does not serve a held record that no longer passes the check', async () => {
    const { bytes } = await sampleEnvelope(makeSigner())
    const key = versionKey(digest, 1)
    await dht.putValue(key, bytes, { localOnly: true }).catch(() => undefined)
    const refuseAll = createRecordCheck({
      authority: {
        authorizeWrite: () => {
          throw new Error('no')
        }
      }
    })
    expect(await handleGet({ dht, check: refuseAll }, { op: 'get', key })).toEqual({ value: null })
  })

  it('put: another author cannot replace the held head (today it could)', async () => {
    const address = `ucxl://agent001:backend_developer@project123:task456/hijack-${Date.now()}`
    const d = addressDigest(address)
    const owner = makeSigner()
    const v1 = await sampleEnvelope(owner, { address })
    const v2 = await sampleEnvelope(owner, { address, version: 2, previous: v1.hash })
    const forger = makeSigner()
    // a successor chained to the owner's head, and a far-ahead chain of its own
    const f3 = await sampleEnvelope(forger, { address, version: 3, previous: v2.hash })
    const f9 = await sampleEnvelope(forger, { address, version: 9, previous: new Uint8Array(32) })
    const put = (value: Uint8Array) => handlePut(c, { op: 'put', records: [{ key: headKey(d), value }] })
    expect(await put(v1.bytes)).toEqual({ ok: true })
    expect(await put(v2.bytes)).toEqual({ ok: true })
    for (const f of [f3, f9]) expect(await put(f.bytes)).toMatchObject({ ok: false, code: 'EQUIVOCATION' })
    expect(openEnvelope(await dht.getValue(headKey(d), { localOnly: true })).version).toBe(2)
  })
})
