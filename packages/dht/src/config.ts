/**
 * The options of the dht package and their defaults, in one place: `LibP2PDHTInit` with
 * `libp2pDHTDefaults`, `ConnectionLimits` with `connectionDefaults`, `LocalDHTInit` with
 * `localDHTDefaults`. The README's option tables are generated from this file.
 */
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import type { Logger, PeerAdmission, RecordRules } from './contract.js'
import type { ChorusLibp2p, ReachabilityOptions } from './libp2p/node.js'
import type { PeerReputation, PeerReputationInit, RateLimiterInit } from './reputation/index.js'

export type DHTMode = 'client' | 'server' | 'auto'

/** The defaults of {@link LibP2PDHTInit} where it has a value. */
export const libp2pDHTDefaults = Object.freeze({
  listen: Object.freeze(['/ip4/127.0.0.1/tcp/0']) as readonly string[],
  bootstrapPeers: Object.freeze([]) as readonly string[],
  protocolPrefix: '/CHORUS',
  bootstrapTimeout: 30_000,
  discoveryInterval: 60_000,
  mode: 'auto' as DHTMode,
  autoBootstrap: true,
  autoBootstrapInterval: 30_000,
  peerCleanupInterval: 300_000,
  peerTTL: 3_600_000,
  agentVersion: 'chorus-dht/0.1.0',
  capabilities: Object.freeze([]) as readonly string[],
  queryTimeout: 30_000,
  requestTimeout: 10_000,
  rateLimit: Object.freeze({ burst: 1000, ratePerSecond: 500 }) as RateLimiterInit,
  byteRateLimit: Object.freeze({
    burst: 64 * 1024 * 1024,
    ratePerSecond: 16 * 1024 * 1024
  }) as RateLimiterInit,
  admissionTimeout: 10_000,
  admissionDenyPeriod: 600_000,
  start: true
})

/** Options of `createLibP2PDHT`. */
export interface LibP2PDHTInit {
  /**
   * Directory for the persistent peer key (`peer.key`, mode 0600) and the SQLite datastore
   * (`datastore/`: DHT records, provider records, peer store). A node restarted on the same
   * directory keeps its peer id and records.
   * @default undefined (in memory, a fresh key each start)
   */
  dataDir?: string
  /**
   * Listen multiaddrs (loopback, ephemeral port by default).
   * @default ['/ip4/127.0.0.1/tcp/0']
   */
  listen?: string[]
  /**
   * Addresses to announce instead of the listen addresses (e.g. behind NAT).
   * @default undefined (the listen addresses)
   */
  announce?: string[]
  /**
   * Multiaddrs with `/p2p/<id>` of peers to join through; without any the node starts alone.
   * @default []
   */
  bootstrapPeers?: string[]
  /**
   * Prefix of the node's protocols: the kad protocol is `${protocolPrefix}/kad/1.0.0`, the
   * peer-info protocol `${protocolPrefix}/peerinfo/1.0.0`.
   * @default '/CHORUS'
   */
  protocolPrefix?: string
  /**
   * How long `bootstrap()` may take before it fails with `BootstrapError`, in ms.
   * @default 30_000
   */
  bootstrapTimeout?: number
  /**
   * Interval of the discovery of `CHORUS:peer` providers (their role, capabilities and agent
   * version are refreshed in the known-peer table), in ms; 0 disables it.
   * @default 60_000
   */
  discoveryInterval?: number
  /**
   * `server` answers DHT queries and stores records, `client` only asks. `auto` follows
   * reachability: `server` while the node listens and what members observe of its connections is
   * its own address (private addresses count: team networks are usually private), `client` (and a
   * reservation on a member relay) once a member sees it through a NAT (libp2p/reachability.ts).
   * @default 'auto'
   */
  mode?: DHTMode
  /**
   * Reachability: `relayService` (circuit relay v2 for admitted members while reachable, default
   * true), `relayClient` (relayed dials, a reservation when behind NAT, default true),
   * `holePunching` (DCUtR, default true), `autoNAT` (libp2p AutoNAT for public addresses, default
   * true), `upnp` (UPnP port mapping on the gateway, default false).
   * @default {}
   */
  reachability?: ReachabilityOptions
  /**
   * Bootstrap at start and retry every `autoBootstrapInterval` while the node has no connection.
   * @default true
   */
  autoBootstrap?: boolean
  /**
   * Interval of the auto-bootstrap check, in ms.
   * @default 30_000
   */
  autoBootstrapInterval?: number
  /**
   * Interval of the known-peer cleanup, in ms (0 disables it).
   * @default 300_000
   */
  peerCleanupInterval?: number
  /**
   * Known-peer entries not seen for this long (and not connected) are dropped, in ms.
   * @default 3_600_000
   */
  peerTTL?: number
  /**
   * Validators and selectors by key namespace, run by this node for what it stores, sends and
   * receives; every node of a network must run the same ones. There is no default for `CHORUS`:
   * without rules a put under `/CHORUS/...` fails with `InvalidKeyError` (tests use
   * `permissiveRecords` from `@chorus/dht/testing`, production storage's `chorusRecordRules()`).
   * @default undefined (no namespace is accepted)
   */
  records?: RecordRules
  /**
   * Private-network pre-shared key (the libp2p `pnet` key file: `/key/swarm/psk/1.0.0/...`), as
   * bytes or text. Nodes without the same key cannot connect at all.
   * @default undefined (no private network)
   */
  psk?: Uint8Array | string
  /**
   * The peer key.
   * @default undefined (the key in `dataDir`, created on first start, or a fresh Ed25519 key)
   */
  privateKey?: PrivateKey
  /**
   * Agent version sent in identify and the peer-info protocol.
   * @default 'chorus-dht/0.1.0'
   */
  agentVersion?: string
  /**
   * This node's role, served to peers that ask (set also by `announceRole`).
   * @default undefined (none)
   */
  role?: string
  /**
   * This node's capabilities, served to peers that ask (extended by `announceCapability`).
   * @default []
   */
  capabilities?: string[]
  /**
   * Time limit of a DHT query (put, get, provide, findProviders, closest peers), in ms; kad-dht's
   * own is 180 s.
   * @default 30_000
   */
  queryTimeout?: number
  /**
   * Time limit of one `request()`, `ping()` or inbound request, in ms.
   * @default 10_000
   */
  requestTimeout?: number
  /**
   * Connection-manager limits (see `ConnectionLimits`); the defaults admit a local cluster dialling
   * one peer at once.
   * @default undefined (connectionDefaults)
   */
  connection?: ConnectionLimits
  /**
   * A libp2p connection gater (for example the reputation system's, to refuse banned peers). Its
   * `denyDialMultiaddr` replaces ours, which allows private and loopback addresses.
   * @default undefined (allow all, private addresses included)
   */
  connectionGater?: ConnectionGater
  /**
   * The peer reputation system (`createPeerReputation`): a peer that sends records the validators
   * refuse (kad-dht PUT_VALUE, GET_VALUE answers, records pushed over `handle()` protocols) or floods
   * our protocols loses points, and past the threshold it is disconnected and refused in both
   * directions for a while. Pass an instance to share or inspect it, options to tune it, or `false`
   * to turn it off.
   * @default undefined (on, with createPeerReputation()'s defaults: ban at 100 points, three invalid records; 10 min half-life; 10 min first ban)
   */
  reputation?: PeerReputation | PeerReputationInit | false
  /**
   * Per-peer token bucket on inbound kad-dht streams and on each `handle()` protocol, per peer and
   * protocol (far above what an honest peer sends, so only floods hit it); a request over the
   * limit is refused and costs the peer a `flood` penalty. `false` turns it off.
   * @default { burst: 1000, ratePerSecond: 500 }
   */
  rateLimit?: RateLimiterInit | false
  /**
   * Per-peer byte budget beside `rateLimit`, per peer and protocol, in bytes (a token bucket whose
   * tokens are bytes): each `handle()` request takes its length, each record a peer offers in a
   * kad-dht PUT_VALUE takes its value's length. A flood of large records that stays under the
   * request rate is throttled by bytes: a request over the budget is refused and costs the peer a
   * `flood` penalty. The default lets an honest writer push 16 MiB a second to each peer, 64 MiB
   * at once. `false` turns it off.
   * @default { burst: 64 * 1024 * 1024, ratePerSecond: 16 * 1024 * 1024 }
   */
  byteRateLimit?: RateLimiterInit | false
  /**
   * The team's admission rule (`PeerAdmission`, from `@chorus/team`): every connection runs the
   * `${protocolPrefix}/admission/1.0.0` exchange of certificates, and no CHORUS protocol (kad-dht,
   * peer info, every `handle()` protocol) serves a peer before `admission.admit(peerKey,
   * certificate)` accepted it, where `peerKey` is the raw Ed25519 key of its peer id. A refused peer
   * is disconnected and kept out for `admissionDenyPeriod`; `request()` to a peer that is not
   * admitted fails with `PeerNotAdmittedError`.
   * @default undefined (no admission: every peer is served, as today)
   */
  admission?: PeerAdmission
  /**
   * With `admission`: how long a peer may take to prove its membership, in ms. A stream from a peer
   * not yet admitted waits this long before it is aborted, a request to such a peer waits this long
   * before it fails, and a connection whose peer proved nothing by then is closed.
   * @default 10_000
   */
  admissionTimeout?: number
  /**
   * With `admission`: how long a refused peer is kept out (the connection gater refuses its dials
   * and connections), in ms. At most 10 000 refused peers are remembered (the oldest refusal is
   * forgotten first).
   * @default 600_000
   */
  admissionDenyPeriod?: number
  /**
   * Extra @libp2p/kad-dht options (advanced; override ours, e.g. `kBucketSize`, `alpha`).
   * @default undefined (none)
   */
  kad?: Record<string, unknown>
  /**
   * Wrap an existing libp2p node instead of building one. It must carry `dht` (@libp2p/kad-dht,
   * built with the same record rules), `ping` and `identify` services; `privateKey` is its peer
   * key (for `signer`). `close()` stops the node.
   * @default undefined (build a node)
   */
  libp2p?: { node: ChorusLibp2p; privateKey: PrivateKey }
  /**
   * Start the node before `createLibP2PDHT` resolves.
   * @default true
   */
  start?: boolean
  /**
   * Logger for this component (pino fits).
   * @default undefined (silent)
   */
  logger?: Logger
}

/** The defaults of {@link ConnectionLimits}. */
export const connectionDefaults = Object.freeze({
  maxConnections: 300,
  maxIncomingPendingConnections: 128,
  inboundConnectionThreshold: 256,
  dialTimeout: 10_000,
  addressDialTimeout: 6_000,
  inboundUpgradeTimeout: 10_000
})

/** Connection-manager limits. The libp2p defaults refuse a local cluster dialling one peer at once. */
export interface ConnectionLimits {
  /**
   * Connections before libp2p prunes.
   * @default 300
   */
  maxConnections?: number
  /**
   * Inbound connections still upgrading at once (libp2p's default: 10).
   * @default 128
   */
  maxIncomingPendingConnections?: number
  /**
   * Inbound connections per second from one host (libp2p's default: 5).
   * @default 256
   */
  inboundConnectionThreshold?: number
  /**
   * Dial timeout in ms.
   * @default 10_000
   */
  dialTimeout?: number
  /**
   * Time one address may take to dial and upgrade before the next is tried, in ms.
   * @default 6_000
   */
  addressDialTimeout?: number
  /**
   * Time an inbound connection may take to upgrade (pnet, noise, yamux), in ms.
   * @default 10_000
   */
  inboundUpgradeTimeout?: number
}

/** The defaults of {@link LocalDHTInit} where it has a value. */
export const localDHTDefaults = Object.freeze({
  peerId: 'self',
  synchronous: 'normal' as 'normal' | 'full'
})

/** Options of `createLocalDHT`. */
export interface LocalDHTInit {
  /**
   * Directory for the SQLite file (`local-dht.sqlite`); created when missing. Records and
   * provider entries survive a restart on the same directory.
   * @default undefined (in memory, gone when the process ends)
   */
  dataDir?: string
  /**
   * Validators and selectors by namespace (the first key segment), the same ones the network
   * nodes run. When given, a put is refused with `InvalidRecordError` if the validator throws,
   * and the selector decides between the stored and the incoming record (ties go to the
   * incoming). Without rules every well-formed key (`/<namespace>/<name>`) is accepted and the
   * last write wins. A key of another shape, or (with rules) of a namespace without a
   * validator, is refused with `InvalidKeyError`.
   * @default undefined (any namespace, last write wins)
   */
  records?: RecordRules
  /**
   * The id this node reports as provider in `findProviders`. Give the node's libp2p peer id when
   * the local DHT stands in for a network node.
   * @default 'self'
   */
  peerId?: string
  /**
   * SQLite `synchronous` setting: `'normal'` survives a process crash but may lose the last
   * commits on power loss; `'full'` fsyncs every commit (slower).
   * @default 'normal'
   */
  synchronous?: 'normal' | 'full'
  /**
   * Where to log.
   * @default undefined (no logging)
   */
  logger?: Logger
}
