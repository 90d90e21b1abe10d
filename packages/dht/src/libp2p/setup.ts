/**
 * What `createLibP2PDHT` does before the facade exists: the reputation system from its init, and
 * the node it runs on (peer key, datastore, libp2p with kad-dht), built or given.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { ConnectionGater, PeerInfo, PrivateKey } from '@libp2p/interface'
import { MemoryDatastore } from 'datastore-core'
import type { Datastore } from 'interface-datastore'
import { type LibP2PDHTInit, libp2pDHTDefaults } from '../config.js'
import type { RecordRules } from '../contract.js'
import { DHTConfigError } from '../errors.js'
import {
  createPeerReputation,
  type PeerReputation,
  type PeerReputationInit
} from '../reputation/reputation.js'
import { AdmissionGate } from './admission-gate.js'
import { cachedDatastore } from './cached-datastore.js'
import { kadDatastorePrefix, kadRecordsPrefix } from './kad-internals.js'
import { buildNode, type ChorusLibp2p } from './node.js'
import { loadOrCreatePeerKey } from './peer-key.js'
import { DATASTORE_FILE, migrateLevelDB, SqliteDatastore } from './sqlite-datastore.js'

/** A datastore this package opens and closes (SQLite, or in memory). */
export type OwnDatastore = Datastore & { open?(): Promise<void>; close?(): Promise<void> }

/** The reputation system `init.reputation` asks for: the given one, a new one, or none (`false`). */
export function makeReputation(init: LibP2PDHTInit): PeerReputation | undefined {
  const r = init.reputation
  if (r === false) return undefined
  if (r != null && typeof (r as PeerReputation).penalise === 'function') return r as PeerReputation
  return createPeerReputation({
    ...(r as PeerReputationInit | undefined),
    ...(init.logger != null && (r as PeerReputationInit | undefined)?.logger == null
      ? { logger: init.logger }
      : {})
  })
}

/**
 * Admission's deny set and connection gate when `init.admission` is given (checking the admission
 * options: `DHTConfigError`), else undefined.
 */
export function makeAdmissionGate(init: LibP2PDHTInit): AdmissionGate | undefined {
  for (const [name, ms] of [
    ['admissionTimeout', init.admissionTimeout],
    ['admissionDenyPeriod', init.admissionDenyPeriod]
  ] as const) {
    if (ms !== undefined && !(ms > 0 && Number.isFinite(ms))) {
      throw new DHTConfigError(`${name} must be a positive number of ms`)
    }
  }
  if (init.admission == null) return undefined
  return new AdmissionGate({ denyPeriod: init.admissionDenyPeriod ?? libp2pDHTDefaults.admissionDenyPeriod })
}

export interface OwnNode {
  node: ChorusLibp2p
  privateKey: PrivateKey
  /** The datastore this package opened (and closes on stop); undefined for a wrapped node. */
  datastore: OwnDatastore | undefined
}

/**
 * The node of `init.libp2p`, or a new one: the peer key from `dataDir` (or a fresh one), an
 * SQLite datastore in `dataDir/datastore` (a LevelDB one left there is moved in; or in memory),
 * and a libp2p node with kad-dht running `records` (not started), `gater` and kad-dht's
 * `peerInfoMapper` (admission's).
 */
export async function openNode(
  init: LibP2PDHTInit,
  records: RecordRules,
  gater: ConnectionGater | undefined,
  peerInfoMapper?: (peer: PeerInfo) => PeerInfo
): Promise<OwnNode> {
  if (init.libp2p != null) return { ...init.libp2p, datastore: undefined }
  const privateKey = init.privateKey ?? (await loadOrCreatePeerKey(init.dataDir))
  const dir = init.dataDir != null ? join(init.dataDir, 'datastore') : undefined
  let sqlite: SqliteDatastore | undefined
  let datastore: OwnDatastore = new MemoryDatastore()
  if (dir !== undefined) {
    mkdirSync(dir, { recursive: true })
    // kad-dht's records counted as they are written: a status call never scans for them
    sqlite = new SqliteDatastore(join(dir, DATASTORE_FILE), {
      countedPrefixes: [kadRecordsPrefix(kadDatastorePrefix(init.kad))]
    })
    datastore = cachedDatastore(sqlite)
  }
  try {
    await datastore.open?.()
    if (sqlite !== undefined && dir !== undefined) {
      const copied = await migrateLevelDB(dir, sqlite)
      if (copied > 0) init.logger?.info({ entries: copied }, 'datastore moved from LevelDB to SQLite')
    }
  } catch (err) {
    await datastore.close?.().catch(() => undefined)
    throw new DHTConfigError(
      `cannot open the datastore in ${init.dataDir} (is another node using this data directory?)`,
      { cause: err }
    )
  }
  const listen = init.listen ?? [...libp2pDHTDefaults.listen]
  const mode = init.mode ?? libp2pDHTDefaults.mode
  try {
    const node = await buildNode({
      privateKey,
      datastore,
      listen,
      ...(init.announce != null ? { announce: init.announce } : {}),
      protocolPrefix: init.protocolPrefix ?? libp2pDHTDefaults.protocolPrefix,
      clientMode: mode === 'client' || (mode === 'auto' && listen.length === 0),
      records,
      ...(init.psk != null ? { psk: toPskBytes(init.psk) } : {}),
      agentVersion: init.agentVersion ?? libp2pDHTDefaults.agentVersion,
      ...(init.connection != null ? { connection: init.connection } : {}),
      ...(init.kad != null ? { kad: init.kad } : {}),
      ...(gater != null ? { connectionGater: gater } : {}),
      ...(peerInfoMapper != null ? { peerInfoMapper } : {}),
      ...(init.reachability != null ? { reachability: init.reachability } : {})
    })
    return { node, privateKey, datastore }
  } catch (err) {
    await datastore.close?.()
    throw err
  }
}

function toPskBytes(psk: Uint8Array | string): Uint8Array {
  return typeof psk === 'string' ? new TextEncoder().encode(psk) : psk
}
