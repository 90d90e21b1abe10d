import { silentLogger } from '@chorus/common'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import type { SingleKadDHT } from '@libp2p/kad-dht'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  isDatastoreNotFound,
  isInvalidRecordEvent,
  kadDatastorePrefix,
  kadRecordKey,
  nodeDatastore,
  protocolHandler,
  providersRequest,
  queryValues,
  routingTableOf,
  routingTableSize
} from '../../src/libp2p/kad-internals.js'
import { keyBytes, keyToCid } from '../../src/libp2p/keys.js'
import { buildNode, type ChorusLibp2p } from '../../src/libp2p/node.js'
import { RecordStore } from '../../src/libp2p/record-store.js'
import { permissiveRecords } from '../../src/testing/records.js'

describe('kad-internals against a real in-process kad-dht (no network)', () => {
  let node: ChorusLibp2p
  const datastore = new MemoryDatastore()

  beforeAll(async () => {
    node = await buildNode({
      privateKey: await generateKeyPair('Ed25519'),
      datastore,
      listen: [],
      protocolPrefix: '/internals-test',
      clientMode: false,
      records: permissiveRecords,
      agentVersion: 'test'
    })
    await node.start()
  })

  afterAll(async () => {
    await node?.stop()
  })

  it('has the GET_PROVIDERS request a provide confirms its peers with; an unreachable peer rejects', async () => {
    const ask = providersRequest(node.services.dht)
    expect(ask).toBeTypeOf('function')
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const cid = await keyToCid('/CHORUS/internals')
    await expect(ask!(other, cid, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow()
  })

  it('reads the routing table size and the node datastore', () => {
    expect(routingTableSize(node.services.dht)).toBe(0)
    expect(nodeDatastore(node)).toBe(datastore)
  })

  it('finds the kad protocol handler (server mode), none for an unknown protocol', () => {
    expect(protocolHandler(node, '/internals-test/kad/1.0.0')?.handler).toBeTypeOf('function')
    expect(protocolHandler(node, '/nobody/1.0.0')).toBeUndefined()
  })

  it('a record written at kadRecordKey is what kad-dht answers (getMany, VALUE from itself)', async () => {
    // the store writes into the node's datastore, as LibP2PDHT does
    const own = new RecordStore(
      { datastore: () => nodeDatastore(node), logger: silentLogger },
      { records: permissiveRecords, datastorePrefix: kadDatastorePrefix(undefined) }
    )
    await own.write('/CHORUS/internals', new TextEncoder().encode('v'))
    expect(await datastore.has(kadRecordKey('/dht', keyBytes('/CHORUS/internals')))).toBe(true)
    const values: string[] = []
    for await (const e of queryValues(node.services.dht, keyBytes('/CHORUS/internals'), {
      signal: AbortSignal.timeout(5_000)
    })) {
      if (e.name === 'VALUE')
        values.push(`${e.from.toString() === node.peerId.toString()}:${new TextDecoder().decode(e.value)}`)
    }
    expect(values).toEqual(['true:v'])
  })

  it('the datastore prefix follows init.kad', () => {
    expect(kadDatastorePrefix(undefined)).toBe('/dht')
    expect(kadDatastorePrefix({ datastorePrefix: '/other' })).toBe('/other')
    expect(kadRecordKey('/dht', new Uint8Array([1])).toString()).toMatch(/^\/dht\/record\//)
  })

  it('recognises a datastore miss and an invalid-record query error', async () => {
    // MemoryDatastore.get throws synchronously: call it inside an async function
    const err = await (async () => datastore.get(new Key('/missing')))().catch((e: unknown) => e)
    expect(isDatastoreNotFound(err)).toBe(true)
    expect(isDatastoreNotFound(new Error('other'))).toBe(false)
    expect(
      isInvalidRecordEvent({ name: 'QUERY_ERROR', error: new Error('Invalid record'), from: 'p' } as never)
    ).toBe(true)
    expect(
      isInvalidRecordEvent({ name: 'QUERY_ERROR', error: new Error('timeout'), from: 'p' } as never)
    ).toBe(false)
  })

  it("reaches kad-dht's routing table: removal of a peer it does not hold, and its peer:add event", async () => {
    const table = routingTableOf(node.services.dht)
    const kadTable = (node.services.dht as SingleKadDHT).routingTable as unknown as EventTarget
    const added: string[] = []
    const stop = table.onAdded((p) => added.push(p.toString()))
    const peer: PeerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    // kad-dht announces an addition with this event (the real additions: test/admission.test.ts)
    kadTable.dispatchEvent(new CustomEvent('peer:add', { detail: peer }))
    expect(added).toEqual([peer.toString()])
    stop()
    kadTable.dispatchEvent(new CustomEvent('peer:add', { detail: peer }))
    expect(added).toEqual([peer.toString()])
    await expect(table.remove(peer)).resolves.toBeUndefined()
    expect(routingTableSize(node.services.dht)).toBe(0)
  })
})
