import { silentLogger } from '@chorus/common'
import type { QueryEvent } from '@libp2p/kad-dht'
import { MemoryDatastore } from 'datastore-core'
import type { RecordRules } from '../../src/contract.js'
import { Lifetime } from '../../src/libp2p/lifetime.js'
import { RecordStore } from '../../src/libp2p/record-store.js'
import { permissiveRecords } from '../../src/testing/records.js'

/** A started run (stop it with `end()`). */
export function startedRun(): Lifetime {
  const run = new Lifetime('Test', silentLogger)
  run.begin()
  return run
}

/** A record store over an in-memory datastore. */
export function memoryRecords(
  init: { records?: RecordRules; reputation?: { onInvalidRecord(peer: string): unknown } } = {}
): { store: RecordStore; datastore: MemoryDatastore } {
  const datastore = new MemoryDatastore()
  const store = new RecordStore(
    { datastore: () => datastore, reputation: init.reputation as never, logger: silentLogger },
    { records: init.records ?? permissiveRecords, datastorePrefix: '/dht' }
  )
  return { store, datastore }
}

/** A peer id as query events carry it (only `toString()` is read). */
export const peer = (id: string): { toString(): string } => ({ toString: () => id })

/** kad-dht query events, from plain objects. */
export async function* events(...list: object[]): AsyncGenerator<QueryEvent> {
  for (const e of list) yield e as QueryEvent
}

export const putAck = (from: string, value: Uint8Array): object => ({
  name: 'PEER_RESPONSE',
  messageName: 'PUT_VALUE',
  from: peer(from),
  record: { value }
})
