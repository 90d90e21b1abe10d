import { keyPosition, type LibP2PDHT, type LocalDHT, peerPosition, sortByDistance } from '@chorus/dht'
import { addressDigest } from '@chorus/ucxl'
import { decode } from 'cborg'
import { beforeAll, describe, expect, it } from 'vitest'
import { headKey, versionKey } from '../src/address.js'
import { encodeMessage, RECORD_PROTOCOL, recordHandler } from '../src/direct/index.js'
import { encodeEnvelope, openEnvelope } from '../src/envelope.js'
import { chorusRecordRules } from '../src/records.js'
import { BASE, makeSigner, sampleEnvelope, useLocalDHT } from './helpers.js'

const digest = addressDigest(BASE)
const from = { id: '12D3KooWtest', multiaddrs: [] }

describe('direct record protocol', () => {
  const local = useLocalDHT()
  let dht: LocalDHT
  let handle: ReturnType<typeof recordHandler>
  const ask = async (m: unknown) => decode(await handle(encodeMessage(m), from)) as Record<string, unknown>

  beforeAll(() => {
    dht = local.dht
    handle = recordHandler(dht)
  })

  it('stores valid pushed records, serves them, and refuses to roll a head back (stale)', async () => {
    const signer = makeSigner()
    const v1 = await sampleEnvelope(signer)
    const v2 = await sampleEnvelope(signer, { version: 2, previous: v1.hash })
    const put = (key: string, value: Uint8Array) => ask({ op: 'put', records: [{ key, value }] })
    expect(await put(headKey(digest), v1.bytes)).toEqual({ ok: true })
    expect(await put(versionKey(digest, 1), v1.bytes)).toEqual({ ok: true })
    expect(await put(headKey(digest), v2.bytes)).toEqual({ ok: true })
    expect(await put(headKey(digest), v1.bytes)).toMatchObject({ ok: false, code: 'STALE_RECORD' })
    const head = (await ask({ op: 'get', key: headKey(digest) })).value as Uint8Array
    expect(openEnvelope(head).version).toBe(2)
    expect(
      openEnvelope((await ask({ op: 'get', key: versionKey(digest, 1) })).value as Uint8Array).version
    ).toBe(1)
    expect(await ask({ op: 'get', key: '/CHORUS/other' })).toEqual({ value: null })
    expect(await ask({ op: 'get', key: versionKey(digest, 9) })).toEqual({ value: null })
  })

  it('refuses invalid records and malformed requests', async () => {
    const signer = makeSigner()
    const v1 = await sampleEnvelope(signer)
    const forged = encodeEnvelope({ ...v1.envelope, signature: new Uint8Array(64) })
    const r = await ask({ op: 'put', records: [{ key: versionKey(digest, 1), value: forged }] })
    expect(r).toEqual({ ok: false, code: 'INVALID_RECORD', error: 'the record failed validation' })
    expect((await ask({ op: 'put', records: [{ key: versionKey(digest, 2), value: v1.bytes }] })).ok).toBe(
      false
    )
    const malformed = { ok: false, code: 'MALFORMED_REQUEST', error: 'malformed request' }
    expect(await ask({ op: 'nope' })).toEqual(malformed)
    expect(decode(await handle(new Uint8Array([0xff]), from))).toEqual(malformed)
  })

  it('orders peers by XOR distance of their kad ids to the key', async () => {
    const ids = [
      '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp',
      '12D3KooWCRscMgHgEo3ojm8ovzheydpvTEqsDtq7Vby38cMHrYjt',
      '12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8',
      'not-a-peer-id'
    ]
    const key = headKey(digest)
    const sorted = sortByDistance(key, ids, { dropUndecodable: true })
    expect(sorted).toHaveLength(3)
    const dist = (id: string) => {
      const a = peerPosition(id)!
      const b = keyPosition(key)
      return Buffer.from(a.map((x, i) => x ^ (b[i] ?? 0)))
    }
    for (let i = 1; i < sorted.length; i++) {
      expect(Buffer.compare(dist(sorted[i - 1]!), dist(sorted[i]!))).toBeLessThan(0)
    }
  })
})

describe('direct record protocol between libp2p nodes', () => {
  it('an invalid pushed record costs the sender reputation; a valid or older (stale) one does not', async () => {
    const { startNetwork } = await import('@chorus/dht/testing')
    const net = await startNetwork({ nodes: 2, records: chorusRecordRules() })
    try {
      const [server, sender] = net.nodes as [LibP2PDHT, LibP2PDHT]
      await server.handle(RECORD_PROTOCOL, recordHandler(server))
      const push = async (key: string, value: Uint8Array) =>
        decode(
          await sender.request(
            server.peerId,
            RECORD_PROTOCOL,
            encodeMessage({ op: 'put', records: [{ key, value }] })
          )
        ) as { ok: boolean; code?: string }
      const signer = makeSigner()
      const v1 = await sampleEnvelope(signer)
      const v2 = await sampleEnvelope(signer, { version: 2, previous: v1.hash })
      expect(await push(headKey(digest), v2.bytes)).toEqual({ ok: true })
      expect(await push(headKey(digest), v1.bytes)).toMatchObject({ ok: false, code: 'STALE_RECORD' }) // not a fault
      expect(server.reputation!.score(sender.peerId)).toBe(0)
      const badSig = encodeEnvelope({ ...v1.envelope, signature: new Uint8Array(64) })
      expect((await push(versionKey(digest, 1), badSig)).code).toBe('INVALID_RECORD')
      expect((await push(headKey(digest), new TextEncoder().encode('junk'))).code).toBe('INVALID_RECORD')
      expect(server.reputation!.score(sender.peerId)).toBeGreaterThan(0)
      expect(server.reputation!.stats().penalties['invalid-record']).toBe(2)
      const head = await server.getValue(headKey(digest), { localOnly: true })
      expect(openEnvelope(head).version).toBe(2)
      await expect(server.getValue(versionKey(digest, 1), { localOnly: true })).rejects.toThrow()
    } finally {
      await net.stop()
    }
  }, 60_000)
})
