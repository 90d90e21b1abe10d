import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RecordRules } from '../src/contract.js'
import { InvalidKeyError, InvalidRecordError, NotFoundError, NotStartedError } from '../src/errors.js'
import { createLocalDHT, LOCAL_DHT_FILE, type LocalDHT } from '../src/local/index.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

/** Records `v<N>:<text>`; the validator refuses anything else, the selector prefers the highest N. */
function versionOf(value: Uint8Array): number {
  const m = /^v(\d+):/.exec(dec.decode(value))
  if (m === null) throw new Error('not a versioned record')
  return Number(m[1])
}
const rules: RecordRules = {
  validators: {
    CHORUS: (_key, value) => {
      versionOf(value)
    }
  },
  selectors: {
    CHORUS: (_key, records) => {
      let best = 0
      records.forEach((r, i) => {
        if (versionOf(r) > versionOf(records[best] as Uint8Array)) best = i
      })
      return best
    }
  }
}

describe('createLocalDHT', () => {
  let dir: string
  const open: LocalDHT[] = []
  const make = (init: Parameters<typeof createLocalDHT>[0] = {}): LocalDHT => {
    const dht = createLocalDHT(init)
    open.push(dht)
    return dht
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-dht-'))
  })
  afterEach(async () => {
    for (const dht of open.splice(0)) await dht.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('stores and reads back, reporting zero remote acks and a local copy', async () => {
    const dht = make({ dataDir: dir, records: rules })
    const result = await dht.putValue('/CHORUS/ucxl/a', enc.encode('v1:hello'))
    expect(result).toEqual({ key: '/CHORUS/ucxl/a', acks: [], storedLocally: true })
    expect(dec.decode(await dht.getValue('/CHORUS/ucxl/a'))).toBe('v1:hello')
    const values = await dht.getValues('/CHORUS/ucxl/a')
    expect(values.map((v) => ({ from: v.from, text: dec.decode(v.value) }))).toEqual([
      { from: 'self', text: 'v1:hello' }
    ])
    await expect(dht.getValue('/CHORUS/ucxl/missing')).rejects.toBeInstanceOf(NotFoundError)
    expect(await dht.getValues('/CHORUS/ucxl/missing')).toEqual([])
    // A network put (not localOnly) still succeeds: no NoPeersAcknowledgedError from a local store.
    await expect(dht.putValue('/CHORUS/ucxl/b', enc.encode('v1:x'), { minAcks: 3 })).resolves.toMatchObject({
      acks: [],
      storedLocally: true
    })
  })

  it('keeps records and provider entries across a reopen on the same directory', async () => {
    const first = make({ dataDir: dir, records: rules, peerId: '12D3KooWLocal' })
    for (let i = 0; i < 50; i++) await first.putValue(`/CHORUS/ucxl/k${i}`, enc.encode(`v${i}:value ${i}`))
    await first.provide('/CHORUS/ucxl/k7')
    await first.close()
    expect(existsSync(join(dir, LOCAL_DHT_FILE))).toBe(true)

    const second = make({ dataDir: dir, records: rules, peerId: '12D3KooWLocal' })
    for (let i = 0; i < 50; i++) {
      expect(dec.decode(await second.getValue(`/CHORUS/ucxl/k${i}`))).toBe(`v${i}:value ${i}`)
    }
    expect(await second.findProviders('/CHORUS/ucxl/k7')).toEqual([{ id: '12D3KooWLocal', multiaddrs: [] }])
    expect(await second.findProviders('/CHORUS/ucxl/k8')).toEqual([])
    expect(second.getStats()).toMatchObject({ totalKeys: 50, totalProvided: 1 })
  })

  it('keeps nothing without a dataDir', async () => {
    const a = make()
    await a.putValue('/any/key', enc.encode('x'))
    expect(dec.decode(await a.getValue('/any/key'))).toBe('x')
    await a.close()
    const b = make()
    await expect(b.getValue('/any/key')).rejects.toBeInstanceOf(NotFoundError)
  })

  it('refuses records the namespace validator rejects, and stores nothing for them', async () => {
    const dht = make({ dataDir: dir, records: rules })
    const err = await dht.putValue('/CHORUS/ucxl/bad', enc.encode('garbage')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidRecordError)
    expect((err as InvalidRecordError).code).toBe('DHT_INVALID_RECORD')
    expect((err as InvalidRecordError).cause).toBeInstanceOf(Error)
    await expect(dht.getValue('/CHORUS/ucxl/bad')).rejects.toBeInstanceOf(NotFoundError)

    // A namespace without a validator, and keys of the wrong shape, are refused with InvalidKeyError.
    await expect(dht.putValue('/other/x', enc.encode('v1:x'))).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(dht.putValue('no-slash', enc.encode('v1:x'))).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(dht.putValue('/CHORUS/', enc.encode('v1:x'))).rejects.toBeInstanceOf(InvalidKeyError)
    // Bad input gets a typed error, not a crash.
    await expect(dht.putValue('/CHORUS/x', 'text' as unknown as Uint8Array)).rejects.toBeInstanceOf(
      InvalidRecordError
    )
    expect(dht.getStats().totalKeys).toBe(0)
  })

  it('lets the namespace selector decide between the stored and the incoming record', async () => {
    const dht = make({ dataDir: dir, records: rules })
    await dht.putValue('/CHORUS/ucxl/h', enc.encode('v2:second'))
    const older = await dht.putValue('/CHORUS/ucxl/h', enc.encode('v1:first'))
    expect(older.storedLocally).toBe(false)
    expect(dec.decode(await dht.getValue('/CHORUS/ucxl/h'))).toBe('v2:second')
    const newer = await dht.putValue('/CHORUS/ucxl/h', enc.encode('v3:third'))
    expect(newer.storedLocally).toBe(true)
    expect(dec.decode(await dht.getValue('/CHORUS/ucxl/h'))).toBe('v3:third')
  })

  it('honours abort signals, before and during a put', async () => {
    const dht = make({ dataDir: dir, records: rules })
    const aborted = AbortSignal.abort(new Error('caller gave up'))
    for (const op of [
      () => dht.putValue('/CHORUS/ucxl/a', enc.encode('v1:a'), { signal: aborted }),
      () => dht.getValue('/CHORUS/ucxl/a', { signal: aborted }),
      () => dht.getValues('/CHORUS/ucxl/a', { signal: aborted }),
      () => dht.provide('/CHORUS/ucxl/a', { signal: aborted }),
      () => dht.findProviders('/CHORUS/ucxl/a', { signal: aborted }),
      () => dht.getClosestPeers('/CHORUS/ucxl/a', { signal: aborted })
    ]) {
      await expect(op()).rejects.toMatchObject({ name: 'AbortError' })
    }

    // Aborted while an async validator runs: nothing is stored.
    const controller = new AbortController()
    const slow = make({
      records: {
        validators: {
          CHORUS: async () => {
            controller.abort()
            await new Promise((resolve) => setTimeout(resolve, 5))
          }
        },
        selectors: {}
      }
    })
    await expect(
      slow.putValue('/CHORUS/ucxl/slow', enc.encode('x'), { signal: controller.signal })
    ).rejects.toMatchObject({ name: 'AbortError' })
    await expect(slow.getValue('/CHORUS/ucxl/slow')).rejects.toBeInstanceOf(NotFoundError)
  })

  it('provides only itself and knows no closer peers', async () => {
    const dht = make({ peerId: 'me' })
    expect(await dht.findProviders('/CHORUS/p')).toEqual([])
    // no peers hear of it, by design: an empty list, never NoPeersAcknowledgedError
    expect(await dht.provide('/CHORUS/p')).toEqual({ key: '/CHORUS/p', peers: [] })
    await dht.provide('/CHORUS/p')
    expect(await dht.findProviders('/CHORUS/p')).toEqual([{ id: 'me', multiaddrs: [] }])
    expect(await dht.findProviders('/CHORUS/p', { limit: 0 })).toEqual([])
    expect(await dht.getClosestPeers('/CHORUS/p')).toEqual([])
  })

  it('has an idempotent lifecycle and refuses use after stop or close', async () => {
    const dht = make({ dataDir: dir })
    expect(dht.isStarted()).toBe(true)
    await dht.start()
    await dht.putValue('/ns/a', enc.encode('1'))
    await dht.stop()
    await dht.stop()
    expect(dht.isStarted()).toBe(false)
    await expect(dht.getValue('/ns/a')).rejects.toBeInstanceOf(NotStartedError)
    await dht.start()
    expect(dec.decode(await dht.getValue('/ns/a'))).toBe('1')
    await dht.close()
    await dht.close()
    await expect(dht.putValue('/ns/a', enc.encode('2'))).rejects.toBeInstanceOf(NotStartedError)
    await expect(dht.getValue('/ns/a')).rejects.toMatchObject({ code: 'DHT_NOT_STARTED' })
    await expect(dht.start()).rejects.toBeInstanceOf(NotStartedError)
  })

  it('refuses an unusable dataDir with an error at creation', () => {
    const file = join(dir, 'a-file')
    writeFileSync(file, 'not a directory')
    expect(() => createLocalDHT({ dataDir: join(file, 'data') })).toThrow()
  })
})
