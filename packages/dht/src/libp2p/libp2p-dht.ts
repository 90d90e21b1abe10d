/**
 * LibP2PDHT: the `DHT` contract, peer messaging and CHORUS discovery on one libp2p node with
 * @libp2p/kad-dht. A facade in the manner of kad-dht's own `kad-dht.ts`: the class builds its
 * components from one set of components and its init, starts them in order and stops them in
 * reverse, and each public method delegates to one of them:
 *
 * - `RecordStore` (record-store.ts): record rules, stale refusal, this node's own records;
 * - `ContentFetching` (content-fetching.ts): putValue with real acknowledgements, getValue(s);
 * - `ContentRouting` (content-routing.ts): provide, findProviders, getClosestPeers;
 * - `PeerMessagingService` (peer-messaging.ts): handle/request/ping and the inbound guards;
 * - `Discovery` (discovery.ts): roles, capabilities, the peer-info protocol, known peers;
 * - `Bootstrap` (bootstrap.ts): joining through bootstrap peers, auto-bootstrap;
 * - `Admission` (admission.ts, with `init.admission`): certificates exchanged on every connection,
 *   admitted members, refused peers kept out (admission-gate.ts).
 *
 * Every reach into kad-dht's internals is in kad-internals.ts.
 *
 * Why it is long: it wires nine components and delegates some forty public members, each in a
 * line or two; splitting it would scatter the one place that shows how they fit.
 */
import { type Logger, silentLogger } from '@chorus/common'
import type { PrivateKey } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import { type LibP2PDHTInit, libp2pDHTDefaults } from '../config.js'
import type {
  AbortOptions,
  AdmittedMember,
  ClosestPeersOptions,
  FindProvidersOptions,
  GetOptions,
  NodeSigner,
  PeerInfo,
  ProtocolHandler,
  ProvideOptions,
  ProvideResult,
  PutOptions,
  PutResult,
  ReceivedValue
} from '../contract.js'
import { combineGaters, type PeerReputation } from '../reputation/reputation.js'
import { Admission } from './admission.js'
import type { AdmissionGate } from './admission-gate.js'
import type { DHTStats, LibP2PDHT, PeerPenalty } from './api.js'
import { Bootstrap, checkMultiaddr } from './bootstrap.js'
import { ContentFetching } from './content-fetching.js'
import { ContentRouting } from './content-routing.js'
import { DHTServerTable } from './dht-servers.js'
import { Discovery } from './discovery.js'
import { admissionProtocol } from './handlers/admission.js'
import {
  kadDatastorePrefix,
  localProviderAdd,
  nodeDatastore,
  providersRequest,
  queryValues,
  routingTableOf,
  routingTableSize
} from './kad-internals.js'
import { Lifetime } from './lifetime.js'
import type { ChorusLibp2p } from './node.js'
import { isPeerId, signerFromKey } from './peer-key.js'
import { PeerMessagingService } from './peer-messaging.js'
import type { KnownPeer } from './peer-table.js'
import { ReachabilityService } from './reachability.js'
import { RecordStore } from './record-store.js'
import { RelayGate } from './relay-gate.js'
import { makeAdmissionGate, makeReputation, type OwnDatastore, openNode } from './setup.js'

export { type DHTMode, type LibP2PDHTInit, libp2pDHTDefaults } from '../config.js'
export type { AdmissionStats } from './admission.js'
export type { DHTStats, LibP2PDHT, PeerPenalty } from './api.js'
export { capabilityKey, PEER_ANNOUNCE_KEY, roleKey } from './discovery.js'

/** Creates (and by default starts) a LibP2PDHT. */
export async function createLibP2PDHT(init: LibP2PDHTInit = {}): Promise<LibP2PDHT> {
  for (const addr of [...(init.bootstrapPeers ?? []), ...(init.listen ?? [])]) checkMultiaddr(addr)
  const logger = init.logger ?? silentLogger
  const reputation = makeReputation(init)
  // refused peers are kept out by the node's connection gater and kad-dht's peer info mapper
  const gate = makeAdmissionGate(init)
  // the record store exists before the node (kad-dht runs its rules); its datastore is the node's
  let own: { node: ChorusLibp2p; datastore: OwnDatastore | undefined } | undefined
  const records = new RecordStore(
    {
      datastore: () => own?.datastore ?? nodeDatastore((own as { node: ChorusLibp2p }).node),
      reputation,
      logger
    },
    {
      ...(init.records != null ? { records: init.records } : {}),
      datastorePrefix: kadDatastorePrefix(init.kad)
    }
  )
  // the circuit relay serves members only (relay-gate.ts)
  const relayGate = new RelayGate()
  const gater = combineGaters(init.connectionGater, reputation?.gater, gate?.gater, relayGate.gater)
  const opened = await openNode(
    init,
    records.guardedRules,
    gater,
    gate != null ? (peer) => gate.mapPeerInfo(peer) : undefined
  )
  own = opened
  const dht = new LibP2PDHTImpl({ ...opened, records, reputation, gate, relayGate, logger }, init)
  if (init.start ?? libp2pDHTDefaults.start) {
    try {
      await dht.start()
    } catch (err) {
      await dht.stop().catch(() => {})
      throw err
    }
  }
  return dht
}

/** What the facade is built from. */
interface LibP2PDHTComponents {
  node: ChorusLibp2p
  privateKey: PrivateKey
  /** The datastore this package opened and closes; undefined for a wrapped node. */
  datastore: OwnDatastore | undefined
  records: RecordStore
  reputation: PeerReputation | undefined
  /** Admission's deny set and connection gate; undefined without `init.admission`. */
  gate: AdmissionGate | undefined
  relayGate: RelayGate
  logger: Logger
}

class LibP2PDHTImpl implements LibP2PDHT {
  readonly libp2p: ChorusLibp2p
  readonly signer: NodeSigner
  readonly reputation: PeerReputation | undefined
  readonly #kad: KadDHT
  readonly #datastore: OwnDatastore | undefined
  #datastoreOpen: boolean
  readonly #log: Logger
  readonly #run: Lifetime
  readonly #records: RecordStore
  readonly #fetching: ContentFetching
  readonly #routing: ContentRouting
  readonly #messaging: PeerMessagingService
  readonly #discovery: Discovery
  readonly #bootstrap: Bootstrap
  readonly #admission: Admission | undefined
  readonly #reachability: ReachabilityService
  readonly #servers: DHTServerTable
  /** Started in this order after the node, stopped in reverse before it. */
  readonly #components: Array<{ start(): Promise<void>; stop(): Promise<void> }>

  constructor(components: LibP2PDHTComponents, init: LibP2PDHTInit) {
    const d = libp2pDHTDefaults
    const { node, logger } = components
    this.libp2p = node
    this.#kad = node.services.dht
    this.signer = signerFromKey(components.privateKey)
    this.reputation = components.reputation
    this.#datastore = components.datastore
    this.#datastoreOpen = components.datastore != null
    this.#records = components.records
    this.#log = logger
    const run = new Lifetime('LibP2PDHT', logger)
    this.#run = run
    const kad = this.#kad
    const protocolPrefix = init.protocolPrefix ?? d.protocolPrefix
    const kadProtocol = `${protocolPrefix}/kad/1.0.0`
    const queryTimeout = init.queryTimeout ?? d.queryTimeout
    const gate = components.gate
    this.#admission =
      init.admission != null && gate != null
        ? new Admission(
            {
              node,
              gate,
              routingTable: routingTableOf(kad),
              reputation: this.reputation,
              run,
              logger
            },
            {
              admission: init.admission,
              protocol: admissionProtocol(protocolPrefix),
              timeout: init.admissionTimeout ?? d.admissionTimeout
            }
          )
        : undefined
    this.#fetching = new ContentFetching(
      {
        kad: {
          put: (key, value, options) => kad.put(key, value, options),
          queryValues: (key, options) => queryValues(kad, key, options)
        },
        records: this.#records,
        reputation: this.reputation,
        peerId: () => this.peerId,
        run,
        logger
      },
      { queryTimeout }
    )
    const providersAt = providersRequest(kad)
    const addLocalProvider = localProviderAdd(kad)
    this.#routing = new ContentRouting(
      {
        kad: {
          provide: (cid, options) => kad.provide(cid, options),
          findProviders: (cid, options) => kad.findProviders(cid, options),
          getClosestPeers: (key, options) => kad.getClosestPeers(key, options),
          ...(providersAt != null ? { providersAt } : {}),
          ...(addLocalProvider != null ? { addLocalProvider } : {})
        },
        self: () => ({ id: this.peerId, multiaddrs: this.multiaddrs }),
        ...(gate != null ? { refused: (peer: string) => gate.isDenied(peer) } : {}),
        run,
        logger
      },
      { queryTimeout }
    )
    this.#messaging = new PeerMessagingService(
      {
        node,
        reputation: this.reputation,
        admission: this.#admission,
        kadServes: () => kad.getMode() === 'server',
        run,
        logger
      },
      {
        kadProtocol,
        requestTimeout: init.requestTimeout ?? d.requestTimeout,
        rateLimit: init.rateLimit ?? d.rateLimit,
        byteRateLimit: init.byteRateLimit ?? d.byteRateLimit
      }
    )
    this.#discovery = new Discovery(
      {
        routing: this.#routing,
        request: (peer, protocol, body, options) => this.#messaging.send(peer, protocol, body, options),
        serve: (protocol, handler, options) => this.#messaging.serve(protocol, handler, options),
        self: () => ({ id: this.peerId, multiaddrs: this.multiaddrs }),
        connectedPeers: () => this.getConnectedPeers(),
        routingTableSize: () => this.getDHTSize(),
        onInvalidMessage: (peer) => this.penalise(peer, 'invalid-message'),
        scheduler: run,
        logger
      },
      {
        protocolPrefix,
        agentVersion: init.agentVersion ?? d.agentVersion,
        role: init.role,
        capabilities: init.capabilities ?? d.capabilities,
        discoveryInterval: init.discoveryInterval ?? d.discoveryInterval,
        peerCleanupInterval: init.peerCleanupInterval ?? d.peerCleanupInterval,
        peerTTL: init.peerTTL ?? d.peerTTL
      }
    )
    this.#bootstrap = new Bootstrap(
      {
        dial: (addr, options) => node.dial(addr, options),
        routingTableSize: () => this.getDHTSize(),
        selfLookup: async (options) => {
          for await (const _ of kad.getClosestPeers(node.peerId.toMultihash().bytes, options)) {
            // drain
          }
        },
        connectedPeers: () => this.getConnectedPeers(),
        onBootstrapped: (signal) => this.#discovery.announcePeer(signal),
        run,
        scheduler: run,
        logger
      },
      {
        bootstrapPeers: init.bootstrapPeers ?? d.bootstrapPeers,
        bootstrapTimeout: init.bootstrapTimeout ?? d.bootstrapTimeout,
        autoBootstrap: init.autoBootstrap ?? d.autoBootstrap,
        autoBootstrapInterval: init.autoBootstrapInterval ?? d.autoBootstrapInterval,
        kadProtocol
      }
    )
    const admission = this.#admission
    this.#reachability = new ReachabilityService(
      {
        node,
        logger,
        isMember: (peer) => admission == null || admission.isAdmitted(peer)
      },
      {
        followMode: (init.mode ?? d.mode) === 'auto',
        reserveWhenPrivate: init.reachability?.relayClient ?? true
      }
    )
    const reachability = this.#reachability
    const relayGate = components.relayGate
    const relayBinding = {
      start: async () => {
        if (admission == null) return
        relayGate.bind(
          (peer) => admission.waitAdmitted(peer).then(() => true),
          () => reachability.status !== 'private'
        )
      },
      stop: async () => relayGate.unbind()
    }
    this.#servers = new DHTServerTable({ node }, { kadProtocol })
    // admission opens the gate last of the guards: after messaging guarded kad-dht's protocol
    this.#components = [
      this.#servers,
      this.#messaging,
      ...(this.#admission != null ? [this.#admission] : []),
      relayBinding,
      this.#reachability,
      this.#discovery,
      this.#bootstrap
    ]
  }

  get peerId(): string {
    return this.libp2p.peerId.toString()
  }

  get multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((ma) => ma.toString())
  }

  async start(): Promise<void> {
    if (this.#run.started) return
    if (this.#datastore != null && !this.#datastoreOpen) {
      await this.#datastore.open?.()
      this.#datastoreOpen = true
    }
    await this.libp2p.start()
    this.#run.begin()
    for (const c of this.#components) await c.start()
    this.#log.info({ peerId: this.peerId, multiaddrs: this.multiaddrs }, 'dht started')
  }

  async stop(): Promise<void> {
    if (!this.#run.started && !this.#datastoreOpen) return
    this.#run.end()
    for (const c of [...this.#components].reverse()) await c.stop()
    await this.libp2p.stop()
    if (this.#datastore != null && this.#datastoreOpen) {
      this.#datastoreOpen = false
      await this.#datastore.close?.()
    }
    this.#log.info({ peerId: this.peerId }, 'dht stopped')
  }

  async close(): Promise<void> {
    await this.stop()
  }

  bootstrap(options?: AbortOptions & { peers?: string[] }): Promise<void> {
    return this.#bootstrap.bootstrap(options)
  }

  isBootstrapped(): boolean {
    return this.#run.started && this.getDHTSize() > 0
  }

  putValue(key: string, value: Uint8Array, options?: PutOptions): Promise<PutResult> {
    return this.#fetching.putValue(key, value, options)
  }

  removeLocal(key: string, options?: AbortOptions): Promise<boolean> {
    return this.#records.remove(key, options)
  }

  getValue(key: string, options?: GetOptions): Promise<Uint8Array> {
    return this.#fetching.getValue(key, options)
  }

  getValues(key: string, options?: GetOptions): Promise<ReceivedValue[]> {
    return this.#fetching.getValues(key, options)
  }

  provide(key: string, options?: ProvideOptions): Promise<ProvideResult> {
    return this.#routing.provide(key, options)
  }

  noteProviders(key: string, peers: readonly string[], options?: AbortOptions): Promise<void> {
    return this.#routing.noteProviders(key, peers, options)
  }

  findProviders(key: string, options?: FindProvidersOptions): Promise<PeerInfo[]> {
    return this.#routing.findProviders(key, options)
  }

  getClosestPeers(key: string, options?: ClosestPeersOptions): Promise<PeerInfo[]> {
    return this.#routing.getClosestPeers(key, options)
  }

  registerPeer(peerId: string, agentVersion: string, role: string, capabilities: string[]): void {
    this.#discovery.registerPeer(peerId, agentVersion, role, capabilities)
  }

  announceRole(role: string, options?: AbortOptions): Promise<ProvideResult> {
    return this.#discovery.announceRole(role, options)
  }

  announceCapability(capability: string, options?: AbortOptions): Promise<ProvideResult> {
    return this.#discovery.announceCapability(capability, options)
  }

  findPeersByRole(role: string, options?: AbortOptions): Promise<KnownPeer[]> {
    return this.#discovery.findPeersByRole(role, options)
  }

  findPeersByCapability(capability: string, options?: AbortOptions): Promise<KnownPeer[]> {
    return this.#discovery.findPeersByCapability(capability, options)
  }

  getKnownPeers(): KnownPeer[] {
    return this.#discovery.getKnownPeers()
  }

  handle(protocol: string, handler: ProtocolHandler, options?: { maxRequestBytes?: number }): Promise<void> {
    return this.#messaging.handle(protocol, handler, options)
  }

  unhandle(protocol: string): Promise<void> {
    return this.#messaging.unhandle(protocol)
  }

  request(
    peer: string | PeerInfo,
    protocol: string,
    body: Uint8Array,
    options?: AbortOptions & { maxResponseBytes?: number }
  ): Promise<Uint8Array> {
    return this.#messaging.request(peer, protocol, body, options)
  }

  ping(peer: string | PeerInfo, options?: AbortOptions): Promise<number> {
    return this.#messaging.ping(peer, options)
  }

  isDHTServer(peer: string): boolean {
    if (peer === this.peerId) return this.#run.started && this.#kad.getMode() === 'server'
    return this.#servers.isServer(peer)
  }

  getConnectedPeers(): string[] {
    return this.#messaging.getConnectedPeers()
  }

  async getStats(): Promise<DHTStats> {
    return {
      totalPeers: this.getConnectedPeers().length,
      totalKeys: this.#run.started ? await this.#records.count() : 0,
      uptime: this.#run.uptime,
      routingTableSize: this.getDHTSize(),
      knownPeers: this.#discovery.size,
      mode: this.#kad.getMode(),
      bootstrapped: this.isBootstrapped(),
      equivocations: this.#records.equivocations,
      ...(this.#admission != null ? { admission: this.#admission.stats() } : {}),
      reachability: this.#reachability.stats()
    }
  }

  admittedPeer(peerId: string): AdmittedMember | undefined {
    return this.#admission?.member(peerId)
  }

  admittedPeers(): Array<{ peer: string } & AdmittedMember> {
    return this.#admission?.members() ?? []
  }

  expel(peerId: string): boolean {
    return this.#admission?.expel(peerId) ?? false
  }

  penalise(peer: string, reason: PeerPenalty): void {
    if (this.reputation == null || !isPeerId(peer)) return
    this.reputation.penalise(peer, reason)
  }

  getDHTSize(): number {
    return this.#run.started ? routingTableSize(this.#kad) : 0
  }
}
