/**
 * Record succession with a test rule over really signed records: a record is
 * `version (1 byte) || author key (32 bytes) || signature (64 bytes) || payload`, signed by the
 * author's Ed25519 node key over `key || version || payload`. The validator checks the signature;
 * the succession rule keeps a higher version, refuses a lower one (`StaleRecordError`) and calls a
 * different record of the same version by the same author an equivocation (`EquivocationError`).
 */
import { generateKeyPair, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NodeSigner, RecordRules } from '../src/contract.js'
import { EquivocationError, StaleRecordError } from '../src/errors.js'
import type { LibP2PDHT } from '../src/libp2p/libp2p-dht.js'
import { signerFromKey } from '../src/libp2p/peer-key.js'
import { createLocalDHT } from '../src/local/local-dht.js'
import { checkSuccession } from '../src/succession.js'
import { startNetwork, type TestNetwork } from '../src/testing/index.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

interface Parsed {
  version: number
  author: Uint8Array
  signature: Uint8Array
  payload: Uint8Array
}

function parse(record: Uint8Array): Parsed {
  if (record.byteLength < 97) throw new Error('too short')
  return {
    version: record[0]!,
    author: record.subarray(1, 33),
    signature: record.subarray(33, 97),
    payload: record.subarray(97)
  }
}

function signed(key: Uint8Array, version: number, payload: Uint8Array): Uint8Array {
  return new Uint8Array([...key, version, ...payload])
}

async function record(
  signer: NodeSigner,
  key: string,
  version: number,
  payload: string
): Promise<Uint8Array> {
  const body = enc.encode(payload)
  const signature = await signer.sign(signed(enc.encode(key), version, body))
  return new Uint8Array([version, ...signer.publicKey, ...signature, ...body])
}

const rules: RecordRules = {
  validators: {
    CHORUS: async (key, value) => {
      const r = parse(value)
      const ok = await publicKeyFromRaw(r.author).verify(signed(key, r.version, r.payload), r.signature)
      if (!ok) throw new Error('bad signature')
    }
  },
  selectors: {
    CHORUS: (_key, records) => {
      let best = 0
      for (let i = 1; i < records.length; i++) if (records[i]![0]! > records[best]![0]!) best = i
      return best
    }
  },
  succession: {
    CHORUS: (keyBytes, held, incoming) => {
      const key = dec.decode(keyBytes)
      const h = parse(held)
      const n = parse(incoming)
      if (Buffer.compare(h.author, n.author) !== 0) throw new Error('another author')
      if (n.version < h.version) throw new StaleRecordError(key)
      if (n.version === h.version) throw new EquivocationError(key, n.author)
    }
  }
}

describe('checkSuccession', () => {
  const fake = (version: number, author: number, payload: number): Uint8Array =>
    new Uint8Array([version, ...new Uint8Array(32).fill(author), ...new Uint8Array(64), payload])

  it('runs the succession rule: a newer record succeeds, an older one is stale, a second copy equivocates', () => {
    const k = '/CHORUS/unit'
    expect(() => checkSuccession(rules, k, fake(1, 7, 1), fake(2, 7, 1))).not.toThrow()
    expect(() => checkSuccession(rules, k, fake(2, 7, 1), fake(1, 7, 1))).toThrow(StaleRecordError)
    expect(() => checkSuccession(rules, k, fake(1, 7, 1), fake(1, 7, 2))).toThrow(EquivocationError)
    // an identical copy is no equivocation
    expect(() => checkSuccession(rules, k, fake(1, 7, 1), fake(1, 7, 1))).not.toThrow()
    try {
      checkSuccession(rules, k, fake(1, 7, 1), fake(1, 7, 2))
    } catch (err) {
      expect(EquivocationError.isInstance(err) && err.authorKey).toEqual(new Uint8Array(32).fill(7))
    }
  })

  it('without a succession rule the selector decides (held first: stale); without either anything succeeds', () => {
    const selectorOnly: RecordRules = { validators: rules.validators, selectors: rules.selectors }
    expect(() => checkSuccession(selectorOnly, '/CHORUS/u', fake(2, 7, 1), fake(1, 7, 1))).toThrow(
      StaleRecordError
    )
    expect(() => checkSuccession(selectorOnly, '/CHORUS/u', fake(1, 7, 1), fake(1, 7, 2))).toThrow(
      StaleRecordError
    )
    expect(() => checkSuccession(selectorOnly, '/CHORUS/u', fake(1, 7, 1), fake(2, 7, 1))).not.toThrow()
    const none: RecordRules = { validators: rules.validators, selectors: {} }
    expect(() => checkSuccession(none, '/CHORUS/u', fake(2, 7, 1), fake(1, 7, 1))).not.toThrow()
  })
})

describe('the local DHT runs the succession rule', () => {
  it('keeps the held record: a stale one is not stored, an equivocating one throws EquivocationError', async () => {
    const dht = createLocalDHT({ records: rules })
    const signer = signerFromKey(await generateKeyPair('Ed25519'))
    const key = '/CHORUS/local/k'
    try {
      await dht.putValue(key, await record(signer, key, 2, 'two'))
      expect((await dht.putValue(key, await record(signer, key, 1, 'one'))).storedLocally).toBe(false)
      await expect(dht.putValue(key, await record(signer, key, 2, 'TWO'))).rejects.toBeInstanceOf(
        EquivocationError
      )
      expect(parse(await dht.getValue(key)).payload).toEqual(enc.encode('two'))
      expect((await dht.putValue(key, await record(signer, key, 3, 'three'))).storedLocally).toBe(true)
    } finally {
      await dht.close()
    }
  })
})

describe('succession between real nodes', () => {
  let net: TestNetwork
  let author: LibP2PDHT
  let holder: LibP2PDHT
  let relay: LibP2PDHT

  beforeAll(async () => {
    net = await startNetwork({ nodes: 3, records: rules })
    ;[author, holder, relay] = net.nodes as [LibP2PDHT, LibP2PDHT, LibP2PDHT]
  }, 90_000)

  afterAll(async () => {
    await net?.stop()
  }, 30_000)

  it('a kad PUT of an equivocating record is refused: the held one stays, the author is charged, the relay is not', async () => {
    const key = '/CHORUS/succession/version'
    const first = await record(author.signer, key, 1, 'first')
    const second = await record(author.signer, key, 1, 'second') // the same version, signed again
    await holder.putValue(key, first, { localOnly: true })
    const put = await relay.putValue(key, second).catch(() => ({ acks: [] as string[] }))
    expect(put.acks).not.toContain(holder.peerId)
    expect(parse(await holder.getValue(key, { localOnly: true })).payload).toEqual(enc.encode('first'))
    const stats = await holder.getStats()
    expect(stats.equivocations).toBe(1)
    expect(holder.reputation!.score(relay.peerId)).toBe(0)
    expect(holder.reputation!.score(author.peerId)).toBeGreaterThan(0)
    expect(holder.reputation!.stats().penalties['invalid-record']).toBe(1)
  }, 60_000)

  it('the same through a handle() protocol that stores what a peer pushes', async () => {
    const key = '/CHORUS/succession/pushed'
    await holder.handle('/CHORUS/test-store/1.0.0', async (request) => {
      await holder.putValue(key, request, { localOnly: true })
      return new Uint8Array(0)
    })
    await holder.putValue(key, await record(author.signer, key, 4, 'held'), { localOnly: true })
    const scoreBefore = holder.reputation!.score(author.peerId)
    const other = await record(author.signer, key, 4, 'other')
    await expect(relay.request(holder.peerId, '/CHORUS/test-store/1.0.0', other)).rejects.toThrow()
    expect(parse(await holder.getValue(key, { localOnly: true })).payload).toEqual(enc.encode('held'))
    expect((await holder.getStats()).equivocations).toBe(2)
    expect(holder.reputation!.score(relay.peerId)).toBe(0)
    expect(holder.reputation!.score(author.peerId)).toBeGreaterThan(scoreBefore)
  }, 60_000)

  it('an older record is refused at no cost to anyone, and a newer one succeeds', async () => {
    const key = '/CHORUS/succession/stale'
    await holder.putValue(key, await record(author.signer, key, 5, 'five'), { localOnly: true })
    const before = {
      relay: holder.reputation!.score(relay.peerId),
      equivocations: (await holder.getStats()).equivocations
    }
    const stale = await relay.putValue(key, await record(author.signer, key, 3, 'three')).catch(() => ({
      acks: [] as string[]
    }))
    expect(stale.acks).not.toContain(holder.peerId)
    expect(holder.reputation!.score(relay.peerId)).toBe(before.relay)
    expect((await holder.getStats()).equivocations).toBe(before.equivocations)
    const newer = await relay.putValue(key, await record(author.signer, key, 6, 'six'))
    expect(newer.acks).toContain(holder.peerId)
    expect(parse(await holder.getValue(key, { localOnly: true })).payload).toEqual(enc.encode('six'))
  }, 60_000)
})
