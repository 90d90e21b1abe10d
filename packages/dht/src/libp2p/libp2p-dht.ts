import { join } from 'node:path'
import type { ConnectionGater, PeerId, PrivateKey } from '@libp2p/interface'
import { type KadDHT, Record as Libp2pRecord, type QueryEvent, type SingleKadDHT } from '@libp2p/kad-dht'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { LevelDatastore } from 'datastore-level'
import { type Datastore, Key } from 'interface-datastore'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import type {
  AbortOptions,
  ClosestPeersOptions,
  Dht,
  FindProvidersOptions,
  GetOptions,
  Logger,
  NodeSigner,
  PeerInfo,
  PeerMessaging,
  ProtocolHandler,
  ProvideOptions,
  PutOptions,
  PutResult,
  ReceivedValue,
  RecordRules
} from '../contract.js'
import {
  BootstrapError,
  DhtConfigError,
  DhtTimeoutError,
  NoPeersAcknowledgedError,
  NotFoundError,
  NotStartedError,
  PeerUnreachableError
} from '../errors.js'
import {
  attachReputation,
  combineGaters,
  createPeerReputation,
  createRateLimiter,
  guardProtocolHandler,
  guardRecordRules,
  inboundPeer,
  isInvalidRecordEvent,
  type PeerReputation,
  type PeerReputationInit,
  type RateLimiter,
  type RateLimiterInit
} from '../reputation/index.js'
import { keyBytes, keyToCid, recordNamespace, selectBest, validateRecord } from './keys.js'
import { anySignal, handleProtocol, sendRequest, toPeerId } from './messaging.js'
import { buildNode, type ChorusLibp2p, type ConnectionLimits } from './node.js'
import { loadOrCreatePeerKey, signerFromKey } from './peer-key.js'
import { type KnownPeer, PeerTable, parsePeerInfo, type SelfInfo } from './peer-table.js'
import { markInbound, refuseStaleRecords } from './stale.js'

/** Provider key every CHORUS node announces; discovery looks for its providers. */
export const PEER_ANNOUNCE_KEY = 'CHORUS:peer'
/** Provider key for a role. */
export const roleKey = (role: string): string => `CHORUS:role:${role}`
/** Provider key for a capability. */
export const capabilityKey = (capability: string): string => `CHORUS:capability:${capability}`

export type DhtMode = 'client' | 'server' | 'auto'

export interface LibP2PDHTInit {
  /**
   * Directory for the persistent peer key (`peer.key`, mode 0600) and the LevelDB datastore
   * (`datastore/`: DHT records, provider records, peer store). A node restarted on the same
   * directory keeps its peer id and records. Default: none (in-memory, fresh key each start).
   */
  dataDir?: string
  /** Listen multiaddrs. Default: `['/ip4/127.0.0.1/tcp/0']` (loopback, ephemeral port). */
  listen?: string[]
  /** Addresses to announce instead of the listen addresses (e.g. behind NAT). Default: listen addresses. */
  announce?: string[]
  /** Multiaddrs with `/p2p/<id>` of peers to join through. Default: `[]` (the node starts alone). */
  bootstrapPeers?: string[]
  /** Prefix of the node's protocols; the kad protocol is `${protocolPrefix}/kad/1.0.0`. Default: `/CHORUS`. */
  protocolPrefix?: string
  /** How long `bootstrap()` may take before it fails with `BootstrapError`, in ms. Default: 30000. */
  bootstrapTimeout?: number
  /** Interval of the discovery of `CHORUS:peer` providers, in ms (0 disables). Default: 60000. */
  discoveryInterval?: number
  /**
   * `server` answers DHT queries and stores records, `client` only asks. `auto` is `server` when the
   * node listens on any address (CHORUS networks are private, so private addresses count) and
   * `client` otherwise. Default: `auto`.
   */
  mode?: DhtMode
  /** Bootstrap at start and retry while the node has no connection. Default: true. */
  autoBootstrap?: boolean
  /** Interval of the auto-bootstrap check, in ms. Default: 30000. */
  autoBootstrapInterval?: number
  /** Interval of the known-peer cleanup, in ms (0 disables). Default: 300000 (5 min). */
  peerCleanupInterval?: number
  /** Known-peer entries not seen for this long (and not connected) are dropped, in ms. Default: 3600000 (1 h). */
  peerTTL?: number
  /**
   * Validators and selectors by key namespace, run by this node for what it stores, sends and
   * receives; every node of a network must run the same ones. There is no default for `CHORUS`:
   * without rules a put under `/CHORUS/...` fails with `InvalidKeyError` (tests use
   * `permissiveRecords` from `@chorus/dht/testing`). Default: none.
   */
  records?: RecordRules
  /**
   * Private-network pre-shared key (the libp2p `pnet` key file: `/key/swarm/psk/1.0.0/...`), as bytes
   * or text. Nodes without the same key cannot connect at all. Default: none (no private network).
   */
  psk?: Uint8Array | string
  /** The peer key. Default: the key in `dataDir` (created on first start), or a fresh Ed25519 key. */
  privateKey?: PrivateKey
  /** Agent version sent in identify and the peer-info protocol. Default: `chorus-dht/0.1.0`. */
  agentVersion?: string
  /** This node's role, served to peers that ask (set also by `announceRole`). Default: none. */
  role?: string
  /** This node's capabilities, served to peers that ask (extended by `announceCapability`). Default: `[]`. */
  capabilities?: string[]
  /** Time limit of a DHT query (put, get, provide, findProviders, closest peers), in ms. Default: 30000. */
  queryTimeout?: number
  /** Time limit of one `request()` or `ping()`, in ms. Default: 10000. */
  requestTimeout?: number
  /** Connection-manager limits; the defaults admit a local cluster dialling one peer at once. */
  connection?: ConnectionLimits
  /**
   * A libp2p connection gater (for example the reputation system's, to refuse banned peers). Its
   * `denyDialMultiaddr` replaces ours, which allows private and loopback addresses. Default: allow all.
   */
  connectionGater?: ConnectionGater
  /**
   * The peer reputation system (`createPeerReputation`): a peer that sends records the validators
   * refuse (kad-dht PUT_VALUE, GET_VALUE answers, records pushed over `handle()` protocols) or floods
   * our protocols loses points, and past the threshold it is disconnected and refused in both
   * directions for a while. Pass an instance to share or inspect it, options to tune it, or `false`
   * to turn it off. Default: on, with `createPeerReputation()`'s defaults (ban at 100 points, three
   * invalid records; 10 min half-life; 10 min first ban).
   */
  reputation?: PeerReputation | PeerReputationInit | false
  /**
   * Per-peer token bucket on inbound kad-dht streams and on each `handle()` protocol; a request over
   * the limit is refused and costs the peer a `flood` penalty. `false` turns it off.
   * Default: `{ burst: 1000, ratePerSecond: 500 }` per peer and protocol (far above what an honest
   * peer sends, so only floods hit it).
   */
  rateLimit?: RateLimiterInit | false
  /** Extra @libp2p/kad-dht options (advanced; overrides ours, e.g. `kBucketSize`, `alpha`). Default: none. */
  kad?: Record<string, unknown>
  /**
   * Wrap an existing libp2p node instead of building one. It must carry `dht` (@libp2p/kad-dht, built
   * with the same record rules), `ping` and `identify` services; `privateKey` is its peer key (for
   * `signer`). `close()` stops the node. Default: build a node.
   */
  libp2p?: { node: ChorusLibp2p; privateKey: PrivateKey }
  /** Start the node before `createLibP2PDHT` resolves. Default: true. */
  start?: boolean
  /** Logger for this component. Default: silent. */
  logger?: Logger
}

/** `getStats()` result. */
export interface DhtStats {
  /** Peers with an open connection. */
  totalPeers: number
  /** Records in this node's own record store. */
  totalKeys: number
  /** Milliseconds since start (0 when stopped). */
  uptime: number
  /** Peers in the Kademlia routing table. */
  routingTableSize: number
  /** Entries of the known-peer table (roles and capabilities). */
  knownPeers: number
  mode: 'client' | 'server'
  bootstrapped: boolean
}

/** The contract, peer messaging and CHORUS discovery on one libp2p node. */
export interface LibP2PDHT extends Dht, PeerMessaging {
  readonly peerId: string
  /** Multiaddrs (with `/p2p/<id>`) peers can dial; empty when stopped. */
  readonly multiaddrs: string[]
  /** Signs with the node's Ed25519 peer key. */
  readonly signer: NodeSigner
  /** The peer reputation system this node enforces; undefined when `init.reputation` is false. */
  readonly reputation: PeerReputation | undefined
  /** The underlying libp2p node (advanced use; do not stop it directly). */
  readonly libp2p: ChorusLibp2p
  /** Starts the node (idempotent). `createLibP2PDHT` does it unless `init.start` is false. */
  start(): Promise<void>
  /** Stops background tasks and the node and closes the datastore (idempotent); `start()` again to resume. */
  stop(): Promise<void>
  /** Same as `stop()`: leaves no timer, socket or open database behind. */
  close(): Promise<void>
  /**
   * Connects to the bootstrap peers (`options.peers`, else `init.bootstrapPeers`), waits for a DHT
   * server in the routing table and looks up this node's neighbourhood. Rejects with
   * `BootstrapError` when nothing answered within `bootstrapTimeout`. With no peers it does nothing.
   */
  bootstrap(options?: AbortOptions & { peers?: string[] }): Promise<void>
  /** Whether the node takes part in a DHT (its routing table holds at least one peer). */
  isBootstrapped(): boolean
  /** Records (or refreshes) a peer in the known-peer table. */
  registerPeer(peerId: string, agentVersion: string, role: string, capabilities: string[]): void
  /** Announces this node's role (`CHORUS:role:<role>` provider record) and serves it to peers. */
  announceRole(role: string, options?: AbortOptions): Promise<void>
  /** Announces a capability (`CHORUS:capability:<cap>` provider record). */
  announceCapability(capability: string, options?: AbortOptions): Promise<void>
  /** Peers that announced the role, with what they tell about themselves. */
  findPeersByRole(role: string, options?: AbortOptions): Promise<KnownPeer[]>
  /** Peers that announced the capability. */
  findPeersByCapability(capability: string, options?: AbortOptions): Promise<KnownPeer[]>
  /** The known-peer table (filled by discovery, lookups and `registerPeer`). */
  getKnownPeers(): KnownPeer[]
  getStats(): Promise<DhtStats>
  /** Size of the Kademlia routing table. */
  getDHTSize(): number
}

const DEFAULTS = {
  protocolPrefix: '/CHORUS',
  bootstrapTimeout: 30_000,
  discoveryInterval: 60_000,
  autoBootstrapInterval: 30_000,
  peerCleanupInterval: 5 * 60_000,
  peerTTL: 60 * 60_000,
  queryTimeout: 30_000,
  requestTimeout: 10_000,
  agentVersion: 'chorus-dht/0.1.0'
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
const PEER_INFO_MAX_BYTES = 64 * 1024

/** Creates (and by default starts) a LibP2PDHT. */
export async function createLibP2PDHT(init: LibP2PDHTInit = {}): Promise<LibP2PDHT> {
  for (const addr of [...(init.bootstrapPeers ?? []), ...(init.listen ?? [])]) checkMultiaddr(addr)
  const records: RecordRules = init.records ?? { validators: {}, selectors: {} }
  const reputation = makeReputation(init)
  // an incoming record ranked below the one held is refused (bound to the node once it exists)
  let readStored: (key: string) => Promise<Uint8Array | undefined> = async () => undefined
  const fresh = refuseStaleRecords(records, (key) => readStored(key))
  // validators that name the sender of a refused record (kad-dht runs them without saying who)
  const guarded = reputation != null ? guardRecordRules(fresh, reputation) : fresh
  const gater =
    reputation != null ? combineGaters(init.connectionGater, reputation.gater) : init.connectionGater
  let node: ChorusLibp2p
  let privateKey: PrivateKey
  let datastore: (Datastore & { open?(): Promise<void>; close?(): Promise<void> }) | undefined
  if (init.libp2p != null) {
    node = init.libp2p.node
    privateKey = init.libp2p.privateKey
  } else {
    privateKey = init.privateKey ?? (await loadOrCreatePeerKey(init.dataDir))
    datastore =
      init.dataDir != null ? new LevelDatastore(join(init.dataDir, 'datastore')) : new MemoryDatastore()
    try {
      await datastore.open?.()
    } catch (err) {
      throw new DhtConfigError(
        `cannot open the datastore in ${init.dataDir} (is another node using this data directory?)`,
        { cause: err }
      )
    }
    const listen = init.listen ?? ['/ip4/127.0.0.1/tcp/0']
    const mode = init.mode ?? 'auto'
    try {
      node = await buildNode({
        privateKey,
        datastore,
        listen,
        ...(init.announce != null ? { announce: init.announce } : {}),
        protocolPrefix: init.protocolPrefix ?? DEFAULTS.protocolPrefix,
        clientMode: mode === 'client' || (mode === 'auto' && listen.length === 0),
        records: guarded,
        ...(init.psk != null ? { psk: toPskBytes(init.psk) } : {}),
        agentVersion: init.agentVersion ?? DEFAULTS.agentVersion,
        ...(init.connection != null ? { connection: init.connection } : {}),
        ...(init.kad != null ? { kad: init.kad } : {}),
        ...(gater != null ? { connectionGater: gater } : {})
      })
    } catch (err) {
      await datastore.close?.()
      throw err
    }
  }
  const dht = new LibP2PDHTImpl(node, privateKey, datastore, { records, guarded, reputation }, init)
  readStored = (key) => dht.storedValue(key)
  if (init.start !== false) {
    try {
      await dht.start()
    } catch (err) {
      await dht.stop().catch(() => {})
      throw err
    }
  }
  return dht
}

class LibP2PDHTImpl implements LibP2PDHT {
  readonly libp2p: ChorusLibp2p
  readonly signer: NodeSigner
  readonly reputation: PeerReputation | undefined
  private readonly guardedRecords: RecordRules
  private readonly rateLimit: RateLimiterInit | false
  private readonly limiters = new Map<string, RateLimiter>()
  private detachReputation: (() => Promise<void>) | undefined
  private readonly kad: KadDHT
  private readonly datastore: (Datastore & { open?(): Promise<void>; close?(): Promise<void> }) | undefined
  private readonly records: RecordRules
  private readonly log: Logger
  private readonly opts: typeof DEFAULTS & {
    autoBootstrap: boolean
    datastorePrefix: string
    peerInfoProtocol: string
  }
  private bootstrapPeers: string[]
  private readonly peers: PeerTable
  private readonly self: SelfInfo
  private readonly providedKeys = new Set<string>()
  private started = false
  private datastoreOpen: boolean
  private startedAt = 0
  private lifetime = new AbortController()
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private bootstrapping: Promise<void> | undefined
  private peerAnnounced = false

  constructor(
    node: ChorusLibp2p,
    privateKey: PrivateKey,
    datastore: LibP2PDHTImpl['datastore'],
    rules: { records: RecordRules; guarded: RecordRules; reputation: PeerReputation | undefined },
    init: LibP2PDHTInit
  ) {
    const { records } = rules
    this.reputation = rules.reputation
    this.guardedRecords = rules.guarded
    this.rateLimit = init.rateLimit ?? { burst: 1000, ratePerSecond: 500 }
    this.libp2p = node
    this.kad = node.services.dht
    this.signer = signerFromKey(privateKey)
    this.datastore = datastore
    this.datastoreOpen = datastore != null
    this.records = records
    this.log = init.logger ?? silentLogger
    const protocolPrefix = init.protocolPrefix ?? DEFAULTS.protocolPrefix
    this.opts = {
      protocolPrefix,
      bootstrapTimeout: init.bootstrapTimeout ?? DEFAULTS.bootstrapTimeout,
      discoveryInterval: init.discoveryInterval ?? DEFAULTS.discoveryInterval,
      autoBootstrapInterval: init.autoBootstrapInterval ?? DEFAULTS.autoBootstrapInterval,
      peerCleanupInterval: init.peerCleanupInterval ?? DEFAULTS.peerCleanupInterval,
      peerTTL: init.peerTTL ?? DEFAULTS.peerTTL,
      queryTimeout: init.queryTimeout ?? DEFAULTS.queryTimeout,
      requestTimeout: init.requestTimeout ?? DEFAULTS.requestTimeout,
      agentVersion: init.agentVersion ?? DEFAULTS.agentVersion,
      autoBootstrap: init.autoBootstrap ?? true,
      datastorePrefix: typeof init.kad?.datastorePrefix === 'string' ? init.kad.datastorePrefix : '/dht',
      peerInfoProtocol: `${protocolPrefix}/peerinfo/1.0.0`
    }
    this.bootstrapPeers = [...(init.bootstrapPeers ?? [])]
    this.peers = new PeerTable()
    this.self = {
      agentVersion: this.opts.agentVersion,
      ...(init.role != null ? { role: init.role } : {}),
      capabilities: [...new Set(init.capabilities ?? [])]
    }
  }

  get peerId(): string {
    return this.libp2p.peerId.toString()
  }

  get multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((ma) => ma.toString())
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    if (this.started) return
    if (this.datastore != null && !this.datastoreOpen) {
      await this.datastore.open?.()
      this.datastoreOpen = true
    }
    this.lifetime = new AbortController()
    await this.libp2p.start()
    if (this.reputation != null) {
      // kad-dht serves its protocol in server mode only
      const kadProtocol = `${this.opts.protocolPrefix}/kad/1.0.0`
      this.detachReputation = await attachReputation(this.libp2p, {
        reputation: this.reputation,
        protocols: this.kad.getMode() === 'server' ? [kadProtocol] : [],
        limiter: this.limiterFor(kadProtocol) ?? false,
        logger: this.log
      })
    } else if (this.kad.getMode() === 'server') {
      // the stale-record check needs to know which records came from a peer
      this.detachReputation = await markInbound(this.libp2p, [`${this.opts.protocolPrefix}/kad/1.0.0`])
    }
    await handleProtocol(this.libp2p, this.opts.peerInfoProtocol, async () => this.selfInfoBytes(), {
      maxRequestBytes: 1024,
      timeout: this.opts.requestTimeout,
      onError: (err) => this.log.debug({ err: describe(err) }, 'peer-info request failed')
    })
    this.started = true
    this.startedAt = Date.now()
    this.log.info({ peerId: this.peerId, multiaddrs: this.multiaddrs }, 'dht started')
    if (this.opts.autoBootstrap) {
      if (this.bootstrapPeers.length > 0) this.background('initial bootstrap', () => this.bootstrap())
      this.every(this.opts.autoBootstrapInterval, 'auto-bootstrap', async () => {
        if (this.bootstrapPeers.length > 0 && this.getConnectedPeers().length === 0) await this.bootstrap()
      })
    }
    this.every(this.opts.discoveryInterval, 'discovery', (signal) => this.discover(signal))
    this.every(this.opts.peerCleanupInterval, 'peer cleanup', async () => {
      const removed = this.peers.cleanup(this.opts.peerTTL, new Set(this.getConnectedPeers()))
      if (removed > 0) this.log.debug({ removed }, 'stale known peers removed')
    })
  }

  async stop(): Promise<void> {
    if (!this.started && !this.datastoreOpen) return
    this.started = false
    this.peerAnnounced = false
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.lifetime.abort(new NotStartedError('LibP2PDHT'))
    await this.detachReputation?.().catch(() => {})
    this.detachReputation = undefined
    await this.libp2p.stop()
    if (this.datastore != null && this.datastoreOpen) {
      this.datastoreOpen = false
      await this.datastore.close?.()
    }
    this.startedAt = 0
    this.log.info({ peerId: this.peerId }, 'dht stopped')
  }

  async close(): Promise<void> {
    await this.stop()
  }

  // ---------------------------------------------------------------- bootstrap

  async bootstrap(options: AbortOptions & { peers?: string[] } = {}): Promise<void> {
    this.assertStarted('bootstrap')
    if (options.peers != null) {
      for (const p of options.peers) checkMultiaddr(p)
      this.bootstrapPeers = [...new Set([...this.bootstrapPeers, ...options.peers])]
      return this.runBootstrap(options.peers, options.signal)
    }
    if (this.bootstrapPeers.length === 0) return
    // concurrent calls join the bootstrap that is already running
    this.bootstrapping ??= this.runBootstrap(this.bootstrapPeers, options.signal).finally(() => {
      this.bootstrapping = undefined
    })
    return this.bootstrapping
  }

  private async runBootstrap(peers: string[], callerSignal?: AbortSignal): Promise<void> {
    const timeout = this.opts.bootstrapTimeout
    const signal = anySignal(callerSignal, AbortSignal.timeout(timeout), this.lifetime.signal)
    const results = await Promise.allSettled(
      peers.map(async (addr) => {
        const ma = multiaddr(addr)
        if (ma.getComponents().find((c) => c.name === 'p2p') == null) {
          throw new DhtConfigError(`bootstrap address ${addr} has no /p2p/<peer id>`)
        }
        await this.libp2p.dial(ma, { signal })
      })
    )
    callerSignal?.throwIfAborted()
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failures.length === peers.length) {
      throw new BootstrapError(
        `could not reach any of ${peers.length} bootstrap peer(s) within ${timeout} ms: ${describe(failures[0]?.reason)}`,
        peers,
        { cause: new AggregateError(failures.map((f) => f.reason)) }
      )
    }
    // a connected bootstrap peer enters the routing table once identify shows it serves our kad protocol
    try {
      await waitUntil(() => this.getDHTSize() > 0, signal)
    } catch (err) {
      callerSignal?.throwIfAborted()
      throw new BootstrapError(
        `connected to bootstrap peers but none serves ${this.opts.protocolPrefix}/kad/1.0.0 within ${timeout} ms (server mode, same protocolPrefix and psk?)`,
        peers,
        { cause: err }
      )
    }
    // look up our own neighbourhood to fill the routing table
    try {
      for await (const _ of this.kad.getClosestPeers(this.libp2p.peerId.toMultihash().bytes, { signal })) {
        // drain
      }
    } catch (err) {
      callerSignal?.throwIfAborted()
      this.log.debug({ err: describe(err) }, 'self lookup after bootstrap ended early')
    }
    this.log.info({ routingTable: this.getDHTSize() }, 'bootstrapped')
    this.background('announce peer', (s) => this.announcePeer(s))
  }

  /** Announces `CHORUS:peer` once the node has DHT peers (again after each restart). */
  private async announcePeer(signal: AbortSignal): Promise<void> {
    if (this.peerAnnounced || this.getDHTSize() === 0) return
    this.peerAnnounced = true
    try {
      await this.provide(PEER_ANNOUNCE_KEY, { signal })
    } catch (err) {
      this.peerAnnounced = false
      throw err
    }
  }

  isBootstrapped(): boolean {
    return this.started && this.getDHTSize() > 0
  }

  // ---------------------------------------------------------------- records

  async putValue(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    this.assertStarted('putValue')
    // guarded: a record a peer pushed through a handle() protocol costs that peer reputation
    await validateRecord(this.guardedRecords, key, value)
    options.signal?.throwIfAborted()
    if (options.localOnly === true) {
      await this.writeLocal(key, value, options)
      return { key, acks: [], storedLocally: true }
    }
    const kb = keyBytes(key)
    const timeout = this.opts.queryTimeout
    const timeoutSignal = AbortSignal.timeout(timeout)
    const signal = anySignal(options.signal, timeoutSignal, this.lifetime.signal)
    const minAcks =
      options.minAcks != null ? Math.max(1, Math.floor(options.minAcks)) : Number.POSITIVE_INFINITY
    const acks = new Set<string>()
    let storedLocally = false
    let early: ((r: PutResult) => void) | undefined
    const earlyResult = new Promise<PutResult>((resolve) => {
      early = resolve
    })
    const run = (async (): Promise<PutResult> => {
      let failure: unknown
      try {
        for await (const event of this.kad.put(kb, value, { signal })) {
          storedLocally = true
          if (isPutAck(event, value)) {
            acks.add(event.from.toString())
            if (acks.size >= minAcks) early?.({ key, acks: [...acks], storedLocally: true })
          }
        }
        storedLocally = true
      } catch (err) {
        failure = err
      }
      if (failure != null) {
        options.signal?.throwIfAborted()
        if (!timeoutSignal.aborted && !this.lifetime.signal.aborted && !storedLocally) throw failure
      }
      if (acks.size === 0) {
        const cause = timeoutSignal.aborted ? new DhtTimeoutError(`put ${key}`, timeout) : failure
        throw new NoPeersAcknowledgedError(key, cause != null ? { cause } : undefined)
      }
      return { key, acks: [...acks], storedLocally }
    })()
    const result = await Promise.race([run, earlyResult])
    run.catch((err) => this.log.debug({ key, err: describe(err) }, 'background part of put ended'))
    return result
  }

  async getValue(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    const values = await this.getValues(key, options)
    if (values.length === 0) throw new NotFoundError(key)
    const best = selectBest(
      this.records,
      key,
      values.map((v) => v.value)
    )
    return (values[best] ?? values[0])!.value
  }

  async getValues(key: string, options: GetOptions = {}): Promise<ReceivedValue[]> {
    this.assertStarted('getValues')
    recordNamespace(key)
    options.signal?.throwIfAborted()
    if (options.localOnly === true) {
      const local = await this.readLocal(key, options)
      return local != null ? [{ value: local, from: 'self' }] : []
    }
    const signal = anySignal(
      options.signal,
      AbortSignal.timeout(this.opts.queryTimeout),
      this.lifetime.signal
    )
    const self = this.peerId
    const bySender = new Map<string, Uint8Array>()
    try {
      for await (const event of this.queryValues(keyBytes(key), signal)) {
        if (this.reputation != null && isInvalidRecordEvent(event)) {
          this.reputation.onInvalidRecord(event.from.toString())
        }
        if (event.name !== 'VALUE') continue
        const from = event.from.toString()
        bySender.set(from === self ? 'self' : from, event.value)
      }
    } catch (err) {
      options.signal?.throwIfAborted()
      if (this.lifetime.signal.aborted) throw new NotStartedError('LibP2PDHT')
      // a timed-out query still answers with what it found
      this.log.debug({ key, err: describe(err) }, 'get query ended early')
    }
    return [...bySender].map(([from, value]) => ({ value, from }))
  }

  /**
   * Every validated value of every peer on the query path (kad-dht's internal `getMany`: the public
   * `get` only yields the best value, after sending corrections that can fail the whole get).
   */
  private queryValues(key: Uint8Array, signal: AbortSignal): AsyncIterable<QueryEvent> {
    const fetching = (this.kad as unknown as { contentFetching?: { getMany?: unknown } }).contentFetching
    if (fetching != null && typeof fetching.getMany === 'function') {
      return (fetching.getMany as (k: Uint8Array, o: AbortOptions) => AsyncIterable<QueryEvent>).call(
        fetching,
        key,
        { signal }
      )
    }
    return this.kad.get(key, { signal })
  }

  private recordKey(key: string): Key {
    return new Key(
      `${this.opts.datastorePrefix}/record/${uint8ArrayToString(keyBytes(key), 'base32')}`,
      false
    )
  }

  /** Writes a record the way kad-dht stores received ones, so this node answers GET_VALUE for it. */
  private async writeLocal(key: string, value: Uint8Array, options: AbortOptions): Promise<void> {
    const record = new Libp2pRecord(keyBytes(key), value, new Date())
    await this.libp2pDatastore().put(this.recordKey(key), record.serialize(), options)
  }

  /** The record this node holds for `key` (validated), for the stale-record check. */
  storedValue(key: string): Promise<Uint8Array | undefined> {
    return this.readLocal(key, {})
  }

  private async readLocal(key: string, options: AbortOptions): Promise<Uint8Array | undefined> {
    let raw: Uint8Array
    try {
      raw = await this.libp2pDatastore().get(this.recordKey(key), options)
    } catch (err) {
      if (err instanceof Error && err.name === 'NotFoundError') return undefined
      throw err
    }
    const record = Libp2pRecord.deserialize(raw)
    try {
      await validateRecord(this.records, key, record.value)
    } catch (err) {
      this.log.warn({ key, err: describe(err) }, 'local record no longer valid')
      return undefined
    }
    return record.value
  }

  private libp2pDatastore(): Datastore {
    if (this.datastore != null) return this.datastore
    return (this.libp2p as unknown as { components: { datastore: Datastore } }).components.datastore
  }

  // ---------------------------------------------------------------- providers and peers

  async provide(key: string, options: ProvideOptions = {}): Promise<void> {
    this.assertStarted('provide')
    const cid = await keyToCid(key)
    const signal = anySignal(
      options.signal,
      AbortSignal.timeout(this.opts.queryTimeout),
      this.lifetime.signal
    )
    this.providedKeys.add(key)
    try {
      for await (const _ of this.kad.provide(cid, { signal })) {
        // drain: kad-dht stores the provider record locally first, then on the closest peers
      }
    } catch (err) {
      options.signal?.throwIfAborted()
      this.assertStarted('provide')
      this.log.debug({ key, err: describe(err) }, 'provide ended early')
    }
  }

  async findProviders(key: string, options: FindProvidersOptions = {}): Promise<PeerInfo[]> {
    this.assertStarted('findProviders')
    const cid = await keyToCid(key)
    const limit = options.limit ?? 20
    const found = new Map<string, PeerInfo>()
    if (this.providedKeys.has(key)) found.set(this.peerId, { id: this.peerId, multiaddrs: this.multiaddrs })
    if (found.size >= limit) return [...found.values()].slice(0, limit)
    const controller = new AbortController()
    const signal = anySignal(
      options.signal,
      controller.signal,
      AbortSignal.timeout(this.opts.queryTimeout),
      this.lifetime.signal
    )
    try {
      for await (const event of this.kad.findProviders(cid, { signal })) {
        if (event.name !== 'PROVIDER') continue
        for (const p of event.providers) {
          const id = p.id.toString()
          const existing = found.get(id)
          const multiaddrs = [...new Set(p.multiaddrs.map((m) => m.toString()))]
          if (existing == null) found.set(id, { id, multiaddrs })
          else if (existing.multiaddrs.length === 0) existing.multiaddrs = multiaddrs
        }
        if (found.size >= limit) {
          controller.abort()
          break
        }
      }
    } catch (err) {
      options.signal?.throwIfAborted()
      this.assertStarted('findProviders')
      this.log.debug({ key, err: describe(err) }, 'findProviders ended early')
    }
    return [...found.values()].slice(0, limit)
  }

  async getClosestPeers(key: string, options: ClosestPeersOptions = {}): Promise<PeerInfo[]> {
    this.assertStarted('getClosestPeers')
    const limit = options.limit ?? 20
    const signal = anySignal(
      options.signal,
      AbortSignal.timeout(this.opts.queryTimeout),
      this.lifetime.signal
    )
    const found = new Map<string, PeerInfo>()
    try {
      for await (const event of this.kad.getClosestPeers(keyBytes(key), { signal })) {
        if (event.name !== 'FINAL_PEER') continue
        const id = event.peer.id.toString()
        found.set(id, { id, multiaddrs: event.peer.multiaddrs.map((m) => m.toString()) })
        if (found.size >= limit) break
      }
    } catch (err) {
      options.signal?.throwIfAborted()
      this.assertStarted('getClosestPeers')
      this.log.debug({ key, err: describe(err) }, 'closest-peers query ended early')
    }
    return [...found.values()]
  }

  registerPeer(peerId: string, agentVersion: string, role: string, capabilities: string[]): void {
    this.peers.upsert({ id: peerId, agentVersion, role, capabilities })
  }

  async announceRole(role: string, options: AbortOptions = {}): Promise<void> {
    checkName('role', role)
    this.self.role = role
    await this.provide(roleKey(role), options)
    await this.provide(PEER_ANNOUNCE_KEY, options)
  }

  async announceCapability(capability: string, options: AbortOptions = {}): Promise<void> {
    checkName('capability', capability)
    if (!this.self.capabilities.includes(capability)) this.self.capabilities.push(capability)
    await this.provide(capabilityKey(capability), options)
  }

  async findPeersByRole(role: string, options: AbortOptions = {}): Promise<KnownPeer[]> {
    checkName('role', role)
    return this.findAnnounced(roleKey(role), (p) => p.role === role, options)
  }

  async findPeersByCapability(capability: string, options: AbortOptions = {}): Promise<KnownPeer[]> {
    checkName('capability', capability)
    return this.findAnnounced(capabilityKey(capability), (p) => p.capabilities.includes(capability), options)
  }

  /** Providers of an announcement key, completed with what each tells about itself. */
  private async findAnnounced(
    key: string,
    matches: (p: KnownPeer) => boolean,
    options: AbortOptions
  ): Promise<KnownPeer[]> {
    const providers = await this.findProviders(key, { limit: 200, ...options })
    const out = await Promise.all(
      providers.map(async (p): Promise<KnownPeer | undefined> => {
        if (p.id === this.peerId) return { ...this.selfAsKnown(), multiaddrs: this.multiaddrs }
        let known = this.peers.get(p.id)
        if (known == null || !matches(known)) known = (await this.refreshPeer(p, options.signal)) ?? known
        if (known == null) return undefined
        if (p.multiaddrs.length > 0) known = { ...known, multiaddrs: p.multiaddrs }
        return known
      })
    )
    return out.filter((p): p is KnownPeer => p != null && matches(p))
  }

  /** Asks a peer for its role, capabilities and agent version and records the answer. */
  private async refreshPeer(peer: PeerInfo, signal?: AbortSignal): Promise<KnownPeer | undefined> {
    try {
      const bytes = await sendRequest(this.libp2p, peer, this.opts.peerInfoProtocol, new Uint8Array(0), {
        timeout: this.opts.requestTimeout,
        maxResponseBytes: PEER_INFO_MAX_BYTES,
        ...(signal != null ? { signal } : {})
      })
      const info = parsePeerInfo(bytes)
      return this.peers.upsert({ id: peer.id, multiaddrs: peer.multiaddrs, ...info })
    } catch (err) {
      this.log.debug({ peer: peer.id, err: describe(err) }, 'peer-info request failed')
      return undefined
    }
  }

  private async discover(signal: AbortSignal): Promise<void> {
    // a node that was joined by others (rather than bootstrapping itself) announces here
    await this.announcePeer(signal)
    const providers = await this.findProviders(PEER_ANNOUNCE_KEY, { limit: 500, signal })
    // peers refreshed within half an interval (by a lookup) are not asked again
    const fresh = Date.now() - this.opts.discoveryInterval / 2
    const stale = providers.filter(
      (p) => p.id !== this.peerId && (this.peers.get(p.id)?.lastSeen ?? 0) < fresh
    )
    await Promise.all(stale.map((p) => this.refreshPeer(p, signal)))
    this.log.debug({ providers: providers.length, known: this.peers.size }, 'discovery round done')
  }

  getKnownPeers(): KnownPeer[] {
    return this.peers.list()
  }

  private selfAsKnown(): KnownPeer {
    return {
      id: this.peerId,
      multiaddrs: this.multiaddrs,
      agentVersion: this.self.agentVersion,
      role: this.self.role ?? '',
      capabilities: [...this.self.capabilities],
      lastSeen: Date.now()
    }
  }

  private selfInfoBytes(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.self))
  }

  // ---------------------------------------------------------------- messaging

  async handle(protocol: string, handler: ProtocolHandler, options: { maxRequestBytes?: number } = {}) {
    this.assertStarted('handle')
    const limiter = this.limiterFor(protocol)
    const guarded: ProtocolHandler =
      this.reputation != null
        ? guardProtocolHandler(handler, {
            reputation: this.reputation,
            protocol,
            ...(limiter != null ? { limiter } : {})
          })
        : (request, from) => inboundPeer.run(from.id, () => handler(request, from))
    await handleProtocol(this.libp2p, protocol, guarded, {
      ...options,
      timeout: this.opts.requestTimeout,
      onError: (err) => this.log.debug({ protocol, err: describe(err) }, 'inbound request failed')
    })
  }

  async unhandle(protocol: string): Promise<void> {
    this.assertStarted('unhandle')
    await this.libp2p.unhandle(protocol)
  }

  async request(
    peer: string | PeerInfo,
    protocol: string,
    body: Uint8Array,
    options: AbortOptions & { maxResponseBytes?: number } = {}
  ): Promise<Uint8Array> {
    this.assertStarted('request')
    return sendRequest(this.libp2p, peer, protocol, body, { ...options, timeout: this.opts.requestTimeout })
  }

  async ping(peer: string | PeerInfo, options: AbortOptions = {}): Promise<number> {
    this.assertStarted('ping')
    const peerId: PeerId = await toPeerId(this.libp2p, peer)
    const signal = anySignal(
      options.signal,
      AbortSignal.timeout(this.opts.requestTimeout),
      this.lifetime.signal
    )
    try {
      return await this.libp2p.services.ping.ping(peerId, { signal })
    } catch (err) {
      options.signal?.throwIfAborted()
      throw new PeerUnreachableError(peerId.toString(), { cause: err })
    }
  }

  getConnectedPeers(): string[] {
    if (!this.started) return []
    return [...new Set(this.libp2p.getPeers().map((p) => p.toString()))]
  }

  // ---------------------------------------------------------------- stats

  async getStats(): Promise<DhtStats> {
    let totalKeys = 0
    if (this.started) {
      for await (const _ of this.libp2pDatastore().queryKeys({
        prefix: `${this.opts.datastorePrefix}/record`
      })) {
        totalKeys++
      }
    }
    return {
      totalPeers: this.getConnectedPeers().length,
      totalKeys,
      uptime: this.started ? Date.now() - this.startedAt : 0,
      routingTableSize: this.getDHTSize(),
      knownPeers: this.peers.size,
      mode: this.kad.getMode(),
      bootstrapped: this.isBootstrapped()
    }
  }

  getDHTSize(): number {
    if (!this.started) return 0
    return (this.kad as SingleKadDHT).routingTable?.size ?? 0
  }

  // ---------------------------------------------------------------- internals

  /** The per-peer rate limiter of a protocol (one bucket per peer and protocol); undefined when off. */
  private limiterFor(protocol: string): RateLimiter | undefined {
    if (this.rateLimit === false) return undefined
    let l = this.limiters.get(protocol)
    if (l == null) {
      l = createRateLimiter(this.rateLimit)
      this.limiters.set(protocol, l)
    }
    return l
  }

  private assertStarted(what: string): void {
    if (!this.started) throw new NotStartedError(`LibP2PDHT (${what})`)
  }

  /** Runs `task` every `interval` ms until stop; 0 disables it. Timers never keep the process alive. */
  private every(interval: number, name: string, task: (signal: AbortSignal) => Promise<void>): void {
    if (!(interval > 0)) return
    const lifetime = this.lifetime
    const tick = (): void => {
      const t = setTimeout(() => {
        this.timers.delete(t)
        if (!this.started || lifetime.signal.aborted) return
        task(lifetime.signal)
          .catch((err) => {
            if (!lifetime.signal.aborted)
              this.log.warn({ task: name, err: describe(err) }, 'background task failed')
          })
          .finally(() => {
            if (this.started && !lifetime.signal.aborted) tick()
          })
      }, interval)
      t.unref?.()
      this.timers.add(t)
    }
    tick()
  }

  private background(name: string, task: (signal: AbortSignal) => Promise<void>): void {
    const lifetime = this.lifetime
    task(lifetime.signal).catch((err) => {
      if (!lifetime.signal.aborted)
        this.log.warn({ task: name, err: describe(err) }, 'background task failed')
    })
  }
}

function isPutAck(event: QueryEvent, value: Uint8Array): event is QueryEvent & { name: 'PEER_RESPONSE' } {
  return (
    event.name === 'PEER_RESPONSE' &&
    event.messageName === 'PUT_VALUE' &&
    event.record != null &&
    uint8ArrayEquals(event.record.value, value)
  )
}

async function waitUntil(cond: () => boolean, signal: AbortSignal, stepMs = 50): Promise<void> {
  while (!cond()) {
    signal.throwIfAborted()
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, stepMs)
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t)
          resolve()
        },
        { once: true }
      )
    })
  }
}

function checkMultiaddr(addr: string): void {
  try {
    multiaddr(addr)
  } catch (err) {
    throw new DhtConfigError(`${JSON.stringify(addr)} is not a multiaddr`, { cause: err })
  }
}

function checkName(kind: string, name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(name)) {
    throw new DhtConfigError(`${kind} ${JSON.stringify(name)} must be 1-128 characters of [A-Za-z0-9_.:-]`)
  }
}

function toPskBytes(psk: Uint8Array | string): Uint8Array {
  return typeof psk === 'string' ? new TextEncoder().encode(psk) : psk
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

function makeReputation(init: LibP2PDHTInit): PeerReputation | undefined {
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
