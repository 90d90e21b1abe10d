import { describe, expect, it } from 'vitest'
import { InvalidKeyError, InvalidRecordError, StaleRecordError } from '../../src/errors.js'
import { kadRecordKey } from '../../src/libp2p/kad-internals.js'
import { keyBytes } from '../../src/libp2p/keys.js'
import { inboundPeer } from '../../src/reputation/context.js'
import { memoryRecords } from './fakes.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

describe('RecordStore', () => {
  it('writes records where kad-dht keeps them and reads them back; nothing held is undefined', async () => {
    const { store, datastore } = memoryRecords()
    expect(await store.read('/CHORUS/a')).toBeUndefined()
    await store.write('/CHORUS/a', enc.encode('one'))
    expect(dec.decode((await store.read('/CHORUS/a'))!)).toBe('one')
    expect(await datastore.has(kadRecordKey('/dht', keyBytes('/CHORUS/a')))).toBe(true)
    await store.write('/test/b', enc.encode('two'))
    expect(await store.count()).toBe(2)
  })

  it('a held record the validator no longer accepts reads as nothing', async () => {
    const { store } = memoryRecords()
    await store.write('/CHORUS/big', new Uint8Array(1024 * 1024 + 1))
    expect(await store.read('/CHORUS/big')).toBeUndefined()
  })

  it('validates with the namespace rules: unknown namespace, bad value', async () => {
    const { store } = memoryRecords()
    await expect(store.validate('/other/x', enc.encode('x'))).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(store.validate('no-namespace', enc.encode('x'))).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(store.validate('/CHORUS/x', new Uint8Array(1024 * 1024 + 1))).rejects.toBeInstanceOf(
      InvalidRecordError
    )
    await expect(store.validate('/CHORUS/x', enc.encode('x'))).resolves.toBeUndefined()
  })

  it('refuses from a peer a record older than the held one, without a penalty; penalises an invalid one', async () => {
    const penalised: string[] = []
    const { store } = memoryRecords({ reputation: { onInvalidRecord: (p) => penalised.push(p) } })
    await store.write('/CHORUS/k', enc.encode('b'))
    const validate = store.guardedRules.validators.CHORUS!
    const key = keyBytes('/CHORUS/k')
    await inboundPeer.run('peer-x', async () => {
      const err = await validate(key, enc.encode('a'))?.catch((e: unknown) => e)
      expect(StaleRecordError.isInstance(err)).toBe(true)
      expect((err as StaleRecordError).code).toBe('DHT_STALE_RECORD')
      await expect(validate(key, enc.encode('c'))).resolves.toBeUndefined()
      await expect(validate(key, enc.encode('b'))).resolves.toBeUndefined()
      expect(penalised).toEqual([])
      await expect(validate(key, new Uint8Array(1024 * 1024 + 1))).rejects.toThrow()
    })
    expect(penalised).toEqual(['peer-x'])
    // not from a peer (answers to this node's own queries): no comparison
    await expect(validate(key, enc.encode('a'))).resolves.toBeUndefined()
  })

  it('best() follows the namespace selector', () => {
    const { store } = memoryRecords()
    expect(store.best('/CHORUS/k', [enc.encode('a'), enc.encode('c'), enc.encode('b')])).toBe(1)
    expect(store.best('/CHORUS/k', [enc.encode('a')])).toBe(0)
  })
})
