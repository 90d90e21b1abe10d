import { addressDigest } from '@chorus/ucxl'
import { decode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { headKey } from '../src/address.js'
import { encodeMessage, recordHandler } from '../src/direct/index.js'
import { BASE, makeSigner, sampleEnvelope, useLocalDHT } from './helpers.js'

// A record a peer pushed and this node stored is held by both: the handler notes both as its
// providers in the DHT's own provider store and tells the listener (the agent's replication),
// so the writer need not announce or spread it again. A refused record does neither.
const SELF = '12D3KooWself'
const from = { id: '12D3KooWsender', multiaddrs: [] }

describe('what a stored push leaves behind', () => {
  const local = useLocalDHT()

  it('notes the sender and this node as providers and tells onStored; a refused record neither', async () => {
    const noted: Array<[string, readonly string[]]> = []
    const stored: Array<[string, string]> = []
    const dht = {
      getValues: local.dht.getValues.bind(local.dht),
      putValue: local.dht.putValue.bind(local.dht),
      noteProviders: async (key: string, peers: readonly string[]) => {
        noted.push([key, peers])
      }
    }
    const handle = recordHandler(dht, { selfId: SELF, onStored: (key, _v, peer) => stored.push([key, peer]) })
    const v = await sampleEnvelope(makeSigner())
    const key = headKey(addressDigest(BASE))
    const put = (value: Uint8Array) => handle(encodeMessage({ op: 'put', records: [{ key, value }] }), from)
    expect(decode(await put(v.bytes))).toEqual({ ok: true })
    await new Promise((r) => setTimeout(r, 10))
    expect(noted).toEqual([[key, [from.id, SELF]]])
    expect(stored).toEqual([[key, from.id]])
    const forged = v.bytes.slice()
    forged[forged.length - 1]! ^= 0xff
    expect(decode(await put(forged))).toMatchObject({ ok: false })
    await new Promise((r) => setTimeout(r, 10))
    expect(noted.length).toBe(1)
    expect(stored.length).toBe(1)
  })
})
