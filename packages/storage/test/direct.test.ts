import { join } from 'node:path'
import { createLocalDHT, type LocalDHT } from '@chorus/dht'
import { addressDigest } from '@chorus/ucxl'
import { decode } from 'cborg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { headKey, versionKey } from '../src/address.js'
import { closestPeers, encodeMessage, keyKadId, peerKadId, recordHandler } from '../src/direct.js'
import { encodeEnvelope, openEnvelope } from '../src/envelope.js'
import { chorusRecordRules } from '../src/records.js'
import { BASE, makeSigner, sampleEnvelope, tempDir } from './helpers.js'

const digest = addressDigest(BASE)
const from = { id: '12D3KooWtest', multiaddrs: [] }

describe('direct record protocol', () => {
  const tmp = tempDir()
  let dht: LocalDHT
  let handle: ReturnType<typeof recordHandler>
  const ask = async (m: unknown) => decode(await handle(encodeMessage(m), from)) as Record<string, unknown>

  beforeAll(async () => {
    dht = createLocalDHT({ dataDir: join(tmp.dir, 'dht'), records: chorusRecordRules() })
    await dht.start()
    handle = recordHandler(dht)
  })
  afterAll(async () => {
    await dht.close()
    tmp.remove()
  })

  it('stores valid pushed records, serves them, and never rolls a head back', async () => {
    const signer = makeSigner()
    const v1 = await sampleEnvelope(signer)
    const v2 = await sampleEnvelope(signer, { version: 2, previous: v1.hash })
    const put = (key: string, value: Uint8Array) => ask({ op: 'put', records: [{ key, value }] })
    expect(await put(headKey(digest), v1.bytes)).toEqual({ ok: true })
    expect(await put(versionKey(digest, 1), v1.bytes)).toEqual({ ok: true })
    expect(await put(headKey(digest), v2.bytes)).toEqual({ ok: true })
    expect(await put(headKey(digest), v1.bytes)).toEqual({ ok: true })
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
    expect(r.ok).toBe(false)
    expect(String(r.error)).toMatch(/signature/)
    expect((await ask({ op: 'put', records: [{ key: versionKey(digest, 2), value: v1.bytes }] })).ok).toBe(
      false
    )
    expect((await ask({ op: 'nope' })).ok).toBe(false)
    expect((decode(await handle(new Uint8Array([0xff]), from)) as { ok: boolean }).ok).toBe(false)
  })

  it('orders peers by XOR distance of their kad ids to the key', async () => {
    const ids = [
      '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp',
      '12D3KooWCRscMgHgEo3ojm8ovzheydpvTEqsDtq7Vby38cMHrYjt',
      '12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8',
      'not-a-peer-id'
    ]
    const key = headKey(digest)
    const sorted = closestPeers(key, ids)
    expect(sorted).toHaveLength(3)
    const dist = (id: string) => {
      const a = peerKadId(id)!
      const b = keyKadId(key)
      return Buffer.from(a.map((x, i) => x ^ (b[i] ?? 0)))
    }
    for (let i = 1; i < sorted.length; i++) {
      expect(Buffer.compare(dist(sorted[i - 1]!), dist(sorted[i]!))).toBeLessThan(0)
    }
  })
})
