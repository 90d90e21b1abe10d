/**
 * One real node: lifecycle, argument errors, health of a lone holder, persistence of pins and
 * their re-serving after a restart of the manager and of the node.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibP2PDHT, type LibP2PDHT } from '@chorus/dht'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectTestRecord, testRecord, testRecords, validateTestRecord } from '../bench/cluster.ts'
import {
  createReplicationManager,
  InvalidArgumentError,
  type ReplicationManager,
  ReplicationNotStartedError,
  UnknownContentError
} from '../src/index.js'

let root: string
let dht: LibP2PDHT

const startDHT = (): Promise<LibP2PDHT> =>
  createLibP2PDHT({
    dataDir: join(root, 'dht'),
    records: testRecords,
    autoBootstrap: false,
    discoveryInterval: 0
  })
const manager = (node: LibP2PDHT): ReplicationManager =>
  createReplicationManager(
    { dht: node, messaging: node, validate: validateTestRecord, select: selectTestRecord },
    { dataDir: join(root, 'replication'), repairInterval: 500, repairBackoffMin: 200, repairRankDelay: 100 }
  )

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'chorus-repl-life-'))
  dht = await startDHT()
})

afterAll(async () => {
  await dht?.close()
  rmSync(root, { recursive: true, force: true })
})

describe('lifecycle and arguments', () => {
  it('refuses bad configuration and use before start', async () => {
    expect(() =>
      createReplicationManager(
        { dht, messaging: dht, validate: validateTestRecord },
        { replicationFactor: 0 }
      )
    ).toThrow(InvalidArgumentError)
    expect(() =>
      createReplicationManager({ dht, messaging: dht, validate: validateTestRecord }, { jitter: 2 })
    ).toThrow(/jitter/)
    const m = manager(dht)
    await expect(m.addContent('/CHORUS/test/x', 1, 1)).rejects.toBeInstanceOf(ReplicationNotStartedError)
    await expect(m.getReplicationStatus('/CHORUS/test/x')).rejects.toMatchObject({
      code: 'REPLICATION_NOT_STARTED'
    })
    // stop before start, twice, is fine
    await m.stop()
    await m.stop()
  })

  it('validates arguments and values, and reports a lone holder as degraded, never critical', async () => {
    const m = manager(dht)
    await m.start()
    await m.start()
    try {
      await expect(m.addContent('no-slash', 1, 1)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(m.addContent('/CHORUS/test/a', -1, 1)).rejects.toMatchObject({ field: 'size' })
      await expect(m.addContent('/CHORUS/test/a', 1, 1.5)).rejects.toMatchObject({ field: 'priority' })
      await expect(
        m.addContent('/CHORUS/test/a', 3, 1, { value: new TextEncoder().encode('bad') })
      ).rejects.toMatchObject({ field: 'value' })
      await expect(m.removeContent('/CHORUS/test/none')).rejects.toBeInstanceOf(UnknownContentError)

      const value = testRecord('lone')
      await m.addContent('/CHORUS/test/lone', value.byteLength, 3, { value })
      // the value given was also written into the node's own record store
      expect(new Uint8Array(await dht.getValue('/CHORUS/test/lone', { localOnly: true }))).toEqual(value)
      const status = await m.getReplicationStatus('/CHORUS/test/lone')
      expect(status).toMatchObject({
        targetReplicas: 3,
        actualReplicas: 1,
        healthyProviders: 0,
        health: 'degraded',
        isLocal: true,
        priority: 3,
        size: value.byteLength
      })
      expect(status.providers.map((p) => p.peerId)).toEqual([dht.peerId])
      // a repair with no peer to push to stays short, and says so
      const r = await m.repair('/CHORUS/test/lone')
      expect(r).toMatchObject({ before: 1, after: 1, pushedTo: [] })
      // a key nobody holds is critical
      const none = await m.getReplicationStatus('/CHORUS/test/nobody')
      expect(none).toMatchObject({ health: 'critical', actualReplicas: 0, isLocal: false })
    } finally {
      await m.stop()
      await m.stop()
    }
    expect(m.listContent()).toEqual([])
    await expect(m.provideContent('/CHORUS/test/lone')).rejects.toBeInstanceOf(ReplicationNotStartedError)
  })

  it('keeps pins across a restart and serves them again from the record store', async () => {
    const m1 = manager(dht)
    await m1.start()
    const value = testRecord('kept')
    await m1.addContent('/CHORUS/test/kept', value.byteLength, 2, { value })
    await m1.stop()
    await dht.close()
    // wipe the DHT's own record store: the pin alone must bring the value back
    rmSync(join(root, 'dht', 'datastore'), { recursive: true, force: true })
    dht = await startDHT()
    await expect(dht.getValue('/CHORUS/test/kept', { localOnly: true })).rejects.toThrow()
    const m2 = manager(dht)
    await m2.start()
    try {
      expect(m2.listContent()).toContain('/CHORUS/test/kept')
      expect(m2.listContent()).toContain('/CHORUS/test/lone')
      expect(new Uint8Array(m2.getPinnedValue('/CHORUS/test/kept')!)).toEqual(value)
      // pins are served again in the background after start (start does no per-key work)
      const served = async () => dht.getValue('/CHORUS/test/kept', { localOnly: true }).catch(() => undefined)
      for (let i = 0; i < 100 && (await served()) == null; i++) await new Promise((r) => setTimeout(r, 50))
      expect(new Uint8Array((await served())!)).toEqual(value)
      const status = await m2.getReplicationStatus('/CHORUS/test/kept')
      expect(status).toMatchObject({ isLocal: true, priority: 2, actualReplicas: 1 })
      await m2.removeContent('/CHORUS/test/kept')
      expect(m2.getPinnedValue('/CHORUS/test/kept')).toBeUndefined()
    } finally {
      await m2.stop()
    }
  })

  it('retireContent stops managing deleted records (no pin, no repair, no reprovide) until they are added again', async () => {
    const m = manager(dht)
    await m.start()
    try {
      const value = testRecord('deleted version')
      await m.addContent('/CHORUS/test/old', value.byteLength, 1, { value })
      await m.addContent('/CHORUS/test/head', value.byteLength, 1, { value: testRecord('head') })
      expect(await m.retireContent(['/CHORUS/test/old', '/CHORUS/test/never-managed'])).toBe(1)
      expect(m.listContent()).not.toContain('/CHORUS/test/old')
      expect(m.listContent()).toContain('/CHORUS/test/head')
      expect(m.getPinnedValue('/CHORUS/test/old')).toBeUndefined()
      await expect(m.repair('/CHORUS/test/old')).rejects.toBeInstanceOf(UnknownContentError)
      await expect(m.retireContent(['not a key'])).rejects.toBeInstanceOf(InvalidArgumentError)
      // the application writes it again: managed again
      await m.addContent('/CHORUS/test/old', value.byteLength, 1, { value })
      expect(m.listContent()).toContain('/CHORUS/test/old')
    } finally {
      await m.stop()
    }
  })
})
