import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLocalDHT, type DHT, type LocalDHT } from '@chorus/dht'
import { addressDigest, parseAddress } from '@chorus/ucxl'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AnnounceNotAcknowledgedError,
  chorusRecordRules,
  type EncryptedStorage,
  type RecordHolders,
  versionKey
} from '../src/index.js'
import { startStorage, teamKeys } from './fixtures.js'
import { makeSigner, tempDir } from './helpers.js'

const ADDR = 'ucxl://agent001:backend_developer@project123:task456/*^/metadata'
const v = (n: number): string => versionKey(addressDigest(parseAddress(ADDR)), n)

/** The audit entries of `op` in the storage's audit log. */
function auditEntries(dir: string, op: string): Array<Record<string, unknown>> {
  return readFileSync(join(dir, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.op === op)
}

describe('metadata: the target replication factor and the known holders', () => {
  const keys = teamKeys()
  const tmp = tempDir()
  let dht: LocalDHT
  let storage: EncryptedStorage
  let defaults: EncryptedStorage
  // what replication would know: the peers that proved they hold each version
  const known = new Map<string, string[]>()
  const holders: RecordHolders = { knownHolders: (key) => known.get(key) ?? [] }

  beforeAll(async () => {
    dht = createLocalDHT({ dataDir: join(tmp.dir, 'dht'), records: chorusRecordRules() })
    storage = await startStorage({
      dht,
      signer: makeSigner(),
      keys,
      plays: ['backend_developer'],
      holders,
      init: { dataDir: join(tmp.dir, 'a'), nodeId: 'self-node', writeQuorum: 0, replicationFactor: 5 }
    })
    defaults = await startStorage({
      dht,
      signer: makeSigner(),
      keys,
      plays: ['senior_architect'],
      init: { dataDir: join(tmp.dir, 'b'), nodeId: 'other-node', writeQuorum: 2 }
    })
  })

  afterAll(async () => {
    await storage?.stop()
    await defaults?.stop()
    await dht?.close()
    tmp.remove()
  })

  it('every result reports the target factor, not the write quorum', async () => {
    const stored = await storage.storeUCXLContent(ADDR, 'one', 'backend_developer', 'text/plain')
    expect(stored.replicationFactor).toBe(5)
    expect((await storage.retrieveUCXLContent(ADDR)).metadata.replicationFactor).toBe(5)
    expect((await storage.listContentByRole('backend_developer'))[0]?.replicationFactor).toBe(5)
    expect((await storage.searchContent({ agent: 'agent001' }))[0]?.replicationFactor).toBe(5)
    // a storage given only a write quorum (2) reports the default factor (3)
    const read = await defaults.retrieveUCXLContent(ADDR)
    expect(read.metadata.replicationFactor).toBe(3)
    expect((await defaults.searchContent({}))[0]?.replicationFactor).toBe(3)
  })

  it('list, search, retrieve and store name the holders known for the version, this node left out', async () => {
    known.set(v(1), ['peer-a', 'self-node', 'peer-b'])
    expect((await storage.listContentByRole('backend_developer'))[0]?.dhtPeers).toEqual(['peer-a', 'peer-b'])
    expect((await storage.searchContent({ agent: 'agent001' }))[0]?.dhtPeers).toEqual(['peer-a', 'peer-b'])
    // a cached answer too
    expect((await storage.retrieveUCXLContent(ADDR)).metadata.dhtPeers).toEqual(['peer-a', 'peer-b'])
    // each version its own holders
    known.set(v(2), ['peer-c'])
    const second = await storage.storeUCXLContent(ADDR, 'two', 'backend_developer', 'text/plain')
    expect(second.dhtPeers).toEqual(['peer-c'])
    const all = await storage.searchContent({ agent: 'agent001', allVersions: true })
    expect(Object.fromEntries(all.map((m) => [m.version, m.dhtPeers]))).toEqual({
      1: ['peer-a', 'peer-b'],
      2: ['peer-c']
    })
    // a directory that fails reports none rather than failing the list
    known.clear()
    holders.knownHolders = () => {
      throw new Error('replication stopped')
    }
    expect((await storage.listContentByRole('backend_developer'))[0]?.dhtPeers).toEqual([])
  })
})

describe('announceContent reports and audits what happened', () => {
  const keys = teamKeys()
  const tmp = tempDir()
  let dht: LocalDHT
  let reached: string[] = []
  // a DHT whose provide reports the peers it is told to (the local DHT has none)
  let announcing: DHT
  let lone: EncryptedStorage
  let connected: EncryptedStorage

  beforeAll(async () => {
    dht = createLocalDHT({ dataDir: join(tmp.dir, 'dht'), records: chorusRecordRules() })
    announcing = {
      putValue: (k, val, o) => dht.putValue(k, val, o),
      getValue: (k, o) => dht.getValue(k, o),
      getValues: (k, o) => dht.getValues(k, o),
      provide: async (key) => ({ key, peers: reached }),
      findProviders: (k, o) => dht.findProviders(k, o),
      getClosestPeers: (k, o) => dht.getClosestPeers(k, o)
    }
    const init = (name: string) => ({ dataDir: join(tmp.dir, name), nodeId: name, writeQuorum: 0 })
    lone = await startStorage({
      dht,
      signer: makeSigner(),
      keys,
      plays: ['backend_developer'],
      init: init('lone')
    })
    connected = await startStorage({
      dht: announcing,
      signer: makeSigner(),
      keys,
      plays: ['backend_developer'],
      init: init('connected')
    })
  })

  afterAll(async () => {
    await lone?.stop()
    await connected?.stop()
    await dht?.close()
    tmp.remove()
  })

  it('an announcement no peer acknowledged fails with AnnounceNotAcknowledgedError, audited as such', async () => {
    const err = await lone.announceContent(ADDR).catch((e: unknown) => e)
    expect(AnnounceNotAcknowledgedError.isInstance(err)).toBe(true)
    expect(err).toMatchObject({ code: 'UCXL-503-QUORUM_NOT_REACHED' })
    await lone.stop()
    const [entry] = auditEntries(join(tmp.dir, 'lone'), 'announce')
    expect(entry).toMatchObject({
      op: 'announce',
      success: false,
      peers: 0,
      error: { code: 'UCXL-503-QUORUM_NOT_REACHED' }
    })
  })

  it('an announcement peers acknowledged reports them and audits how many', async () => {
    reached = ['peer-a', 'peer-b', 'peer-a']
    expect(await connected.announceContent(ADDR)).toEqual({ peers: ['peer-a', 'peer-b'] })
    reached = []
    await expect(connected.announceContent(ADDR)).rejects.toBeInstanceOf(AnnounceNotAcknowledgedError)
    // the entries with their peer counts keep the chain verifiable
    expect(await connected.verifyAuditLog()).toMatchObject({ ok: true })
    await connected.stop()
    const entries = auditEntries(join(tmp.dir, 'connected'), 'announce')
    expect(entries.map((e) => [e.success, e.peers])).toEqual([
      [true, 2],
      [false, 0]
    ])
  })
})
