/**
 * The agent's composition root (as `@helia/utils`'s `Helia`): one components object built from
 * the configuration, one start order and, written once with it, the reverse stop order.
 *
 *   local DHT → libp2p DHT → hybrid DHT (libp2p first, local fallback) → encrypted storage →
 *   replication
 */
import { join } from 'node:path'
import type { Logger } from '@chorus/common'
import { createLibP2PDHT, createLocalDHT, type LibP2PDHT, type LocalDHT } from '@chorus/dht'
import { createHybridDHT, type HybridDHT } from '@chorus/hybrid'
import { createReplicationManager, type ReplicationManager } from '@chorus/replication'
import {
  chorusRecordRules,
  createEncryptedStorage,
  createTombstones,
  type EncryptedStorage
} from '@chorus/storage'
import { teamRecordSelector, teamRecordValidator } from '@chorus/team'
import type { NodeConfig } from '../config/schema.js'
import { AGENT_ERROR_CODES, AgentError } from '../errors.js'
import { readSecretFile } from '../util/files.js'
import type { StorageCryptoComponents } from './crypto-state.js'
import { retireDeleted } from './handoff.js'
import { indexOnce } from './index-once.js'
import { AGENT_VERSION } from './join.js'
import type { StopStep } from './lifecycle.js'
import type { AgentTeam } from './team.js'

export interface AgentComponents {
  /** The persistent single-process DHT: the hybrid's fallback. */
  local: LocalDHT
  /** The network DHT (libp2p, Kademlia). */
  libp2p: LibP2PDHT
  /** libp2p first, the local DHT when it fails; journals writes for replay. */
  hybrid: HybridDHT
  /** Encrypted, signed UCXL content over the hybrid DHT. */
  storage: EncryptedStorage
  /** Keeps the stored records on their target number of holders. */
  replication: ReplicationManager
}

export interface AgentComponentsInit {
  config: NodeConfig
  /** Storage's view of the current crypto state (swapped on reload). */
  crypto: StorageCryptoComponents
  /** The agent's team: the policy every validator runs, and its own certificate. */
  team: AgentTeam
  /** A logger for one component. */
  logger(component: string): Logger
}

/** Build every component (libp2p starts listening here); `startComponents()` starts the rest. */
export async function createComponents(init: AgentComponentsInit): Promise<AgentComponents> {
  const { config: c, logger, team } = init
  // the write rule in every validator: kad PUT_VALUE and GET answers, the direct and replicate
  // protocols, the local DHT (hybrid replay included) and reads; the team's manifest key beside it
  // one registry for the validator path and storage: a tombstone met anywhere deletes here
  const tombstones = createTombstones()
  const rules = chorusRecordRules({
    authority: team.policy,
    tombstones,
    fallbackValidator: teamRecordValidator(team.policy),
    fallbackSelector: teamRecordSelector(team.policy)
  })
  const psk = c.dht.pskFile === '' ? undefined : readSecretFile(c.dht.pskFile)
  const libp2p = await createLibP2PDHT({
    dataDir: join(c.dataDir, 'libp2p'),
    listen: c.listen,
    ...(c.announce.length > 0 ? { announce: c.announce } : {}),
    bootstrapPeers: [],
    protocolPrefix: c.dht.protocolPrefix,
    bootstrapTimeout: c.dht.bootstrapTimeout,
    discoveryInterval: c.dht.discoveryInterval,
    autoBootstrap: true,
    autoBootstrapInterval: c.dht.autoBootstrapInterval,
    peerCleanupInterval: c.dht.peerCleanupInterval,
    mode: c.dht.mode,
    reachability: {
      relayService: c.dht.relayService,
      relayClient: c.dht.relayClient,
      holePunching: c.dht.holePunching,
      autoNAT: c.dht.autoNAT,
      upnp: c.dht.upnp
    },
    records: rules,
    ...(psk !== undefined ? { psk } : {}),
    // only members who prove a certificate of this team for their peer id are served
    admission: team.member,
    agentVersion: AGENT_VERSION,
    role: c.role,
    capabilities: c.capabilities,
    logger: logger('dht')
  })
  const local = createLocalDHT({
    dataDir: join(c.dataDir, 'local'),
    records: rules,
    peerId: libp2p.peerId,
    logger: logger('local-dht')
  })
  const hybrid = createHybridDHT(
    { primary: libp2p, fallback: local, records: rules, logger: logger('hybrid') },
    {
      dataDir: join(c.dataDir, 'hybrid'),
      probeInterval: c.hybrid.probeInterval,
      failureThreshold: c.hybrid.failureThreshold,
      operationTimeout: c.hybrid.operationTimeout
    }
  )
  // replication is built after storage (it indexes what it pins): dhtPeers asks it once it exists
  let replication: ReplicationManager | undefined
  const storage = createEncryptedStorage(
    {
      dht: hybrid,
      holders: { knownHolders: (key) => replication?.knownHolders(key) ?? [] },
      ...init.crypto,
      signer: libp2p.signer,
      authority: team.policy,
      certificate: () => team.member.certificate(),
      peers: libp2p,
      // direct record protocol to the closest peers: the hybrid in front is not PeerMessaging
      messaging: libp2p,
      tombstones,
      // replication stops keeping the deleted versions alive; the tombstone itself stays managed
      onDeleted: (e) => {
        if (replication !== undefined) retireDeleted(replication, e, logger('replication'))
      },
      // a store's direct push is its first replication: the receiver pins what it stored
      onPushed: (key, value, from) => {
        replication?.adoptStoredReplica(key, value, from)
      },
      logger: logger('storage')
    },
    {
      dataDir: join(c.dataDir, 'storage'),
      nodeId: libp2p.peerId,
      cacheTTL: c.storage.cacheTTL,
      cacheCleanupInterval: c.storage.cacheCleanupInterval,
      cacheMaxBytes: c.storage.cacheMaxBytes,
      maxContentBytes: c.storage.maxContentBytes,
      writeQuorum: c.storage.writeQuorum,
      // metadata reports the target factor, not the quorum a store waits for
      replicationFactor: c.replication.replicationFactor,
      retrieveConsistency: c.storage.retrieveConsistency,
      storeTimeout: c.storage.storeTimeout,
      retrieveTimeout: c.storage.retrieveTimeout,
      auditLogging: c.storage.auditLogging
    }
  )
  // what replication pins from a peer is indexed so that list and search find it, each value once
  const indexReplicated = indexOnce((value) => storage.indexEnvelope(value, 'replicated'))
  const validate = rules.validators.CHORUS
  if (validate === undefined) {
    throw new AgentError('storage rules have no CHORUS validator', { code: AGENT_ERROR_CODES.INTERNAL })
  }
  replication = createReplicationManager(
    {
      dht: hybrid,
      messaging: libp2p,
      validate,
      ...(rules.selectors.CHORUS !== undefined ? { select: rules.selectors.CHORUS } : {}),
      ...(rules.succession?.CHORUS !== undefined ? { succession: rules.succession.CHORUS } : {}),
      // refused records, malformed messages, false proofs and floods cost their sender
      ...(libp2p.reputation !== undefined ? { reputation: libp2p.reputation } : {}),
      logger: logger('replication')
    },
    {
      dataDir: join(c.dataDir, 'replication'),
      protocolPrefix: c.dht.protocolPrefix,
      replicationFactor: c.replication.replicationFactor,
      reprovideInterval: c.replication.reprovideInterval,
      republishInterval: c.replication.reprovideInterval,
      cleanupInterval: c.replication.cleanupInterval,
      repairInterval: c.replication.repairInterval,
      providerTTL: c.replication.providerTTL,
      maxProvidersPerKey: c.replication.maxProvidersPerKey,
      maxConcurrentReplications: c.replication.maxConcurrentReplications,
      enableAutoReplication: c.replication.enableAutoReplication,
      enableReprovide: c.replication.enableReprovide,
      maxPinnedBytes: c.replication.maxPinnedBytes,
      onPinned: async (e) => {
        if (e.from === 'self') return
        await indexReplicated(e.value)
      }
    }
  )
  return { local, libp2p, hybrid, storage, replication }
}

/** One component's place in the order: how to start it, how to stop it. */
interface Lifecycle {
  name: string
  start(): Promise<void>
  stop(): Promise<void>
}

/** The start order; stopping runs it backwards. Written once. */
function order(c: AgentComponents): Lifecycle[] {
  return [
    { name: 'local datastore', start: () => c.local.start(), stop: () => c.local.close() },
    { name: 'libp2p', start: () => c.libp2p.start(), stop: () => c.libp2p.close() },
    { name: 'hybrid journal', start: () => c.hybrid.start(), stop: () => c.hybrid.stop() },
    { name: 'storage and index', start: () => c.storage.start(), stop: () => c.storage.stop() },
    { name: 'replication', start: () => c.replication.start(), stop: () => c.replication.stop() }
  ]
}

/** Start every component in order (each start is idempotent). */
export async function startComponents(c: AgentComponents): Promise<void> {
  for (const component of order(c)) await component.start()
}

/** The stop steps: the start order reversed. */
export function stopSteps(c: AgentComponents | undefined): StopStep[] {
  if (c === undefined) return []
  return order(c)
    .reverse()
    .map((component) => ({ name: component.name, run: () => component.stop() }))
}

/** Stop every component in reverse order (each stop is idempotent). */
export async function stopComponents(c: AgentComponents): Promise<void> {
  for (const step of stopSteps(c)) await step.run()
}
