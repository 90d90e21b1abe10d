/**
 * Loads @libp2p/kad-dht's own routing and query code: its `KBucket` routing-table trie, its
 * `QueryManager` (disjoint paths, each walked by `queryPath` with alpha concurrency), its
 * `RoutingTableRefresh` and its query event constructors. The package's exports map only exposes
 * `.`, so these modules are imported by file path from the installed package. The path layout
 * is that of the version pinned in package.json; a new version must be checked here.
 */
import { existsSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { AbortOptions, PeerId } from '@libp2p/interface'

/** A routing-table entry as kad-dht's KBucket keeps it. */
export interface KadPeer {
  kadId: Uint8Array
  peerId: PeerId
  lastPing: number
}

export interface KBucketInstance {
  localPeer?: KadPeer
  start(): Promise<void>
  /** The real insertion path (split, verify new contact, ping old contacts when full). */
  _add(peer: KadPeer, options?: AbortOptions): Promise<void>
  closest(kadId: Uint8Array, options?: { count?: number; exclude?: PeerId[] }): Iterable<PeerId>
  toIterable(): Iterable<KadPeer>
  count(): number
  remove(kadId: Uint8Array): Promise<void>
}

export interface KBucketInit {
  prefixLength?: number
  kBucketSize?: number
  ping(oldContacts: KadPeer[], options?: AbortOptions): AsyncGenerator<KadPeer>
  verify(contact: KadPeer, options?: AbortOptions): Promise<boolean>
  onAdd?(peer: KadPeer): Promise<void>
  onRemove?(peer: KadPeer): Promise<void>
  metricsPrefix?: string
}

export interface PeerInfoLike {
  id: PeerId
  multiaddrs: unknown[]
}

export interface QueryEvent {
  name: string
  from?: PeerId
  closer?: PeerInfoLike[]
}

export interface QueryFuncContext {
  key: Uint8Array
  peer: PeerInfoLike
  peerKadId: Uint8Array
  signal: AbortSignal
}

export type QueryFunc = (context: QueryFuncContext) => AsyncGenerator<QueryEvent>

export interface SimRoutingTable {
  readonly size: number
  readonly kBucketSize: number
  closestPeers(kadId: Uint8Array, options?: { count?: number }): PeerId[]
  queueRoutingTableUpdate(peerId: PeerId): void
}

export interface QueryManagerInstance {
  start(): Promise<void>
  stop(): Promise<void>
  run(key: Uint8Array, query: QueryFunc, options?: AbortOptions): AsyncGenerator<QueryEvent>
}

export interface RefreshInstance {
  _maxCommonPrefix(): number
  _refreshCommonPrefixLength(
    cpl: number,
    lastRefresh: Date,
    force: boolean,
    options?: AbortOptions
  ): Promise<void>
}

export interface KadInternals {
  version: string
  KBucket: new (components: { peerId: PeerId }, init: KBucketInit) => KBucketInstance
  QueryManager: new (
    components: { peerId: PeerId; logger: unknown; connectionManager: unknown },
    init: { routingTable: SimRoutingTable; disjointPaths: number; alpha: number; logPrefix: string }
  ) => QueryManagerInstance
  RoutingTableRefresh: new (
    components: { logger: unknown },
    init: {
      peerRouting: { getClosestPeers(key: Uint8Array, options?: AbortOptions): AsyncIterable<unknown> }
      routingTable: { kb: KBucketInstance; readonly size: number }
      logPrefix: string
    }
  ) => RefreshInstance
  peerResponseEvent(fields: { from: PeerId; messageType: number; closer: PeerInfoLike[] }): QueryEvent
  /** kad-dht's own constants: alpha, the default disjoint paths, k, the trie's prefix length. */
  defaults: { alpha: number; disjointPaths: number; k: number; prefixLength: number }
}

/** The installed @libp2p/kad-dht folder, found the way Node resolves a bare specifier. */
export function kadDHTDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from
  for (;;) {
    const candidate = join(dir, 'node_modules', '@libp2p', 'kad-dht')
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    const parent = dirname(dir)
    if (parent === dir) throw new Error('@libp2p/kad-dht is not installed: run pnpm install')
    dir = parent
  }
}

let loaded: Promise<KadInternals> | undefined

export function loadKadInternals(): Promise<KadInternals> {
  loaded ??= (async () => {
    const dir = kadDHTDir()
    const file = (rel: string): string => pathToFileURL(join(dir, 'dist', 'src', rel)).href
    const [kb, qm, refresh, events, rt, constants, pkg] = await Promise.all([
      import(file('routing-table/k-bucket.js')),
      import(file('query/manager.js')),
      import(file('routing-table/refresh.js')),
      import(file('query/events.js')),
      import(file('routing-table/index.js')),
      import(file('constants.js')),
      import(pathToFileURL(join(dir, 'package.json')).href, { with: { type: 'json' } })
    ])
    return {
      version: pkg.default.version as string,
      KBucket: kb.KBucket,
      QueryManager: qm.QueryManager,
      RoutingTableRefresh: refresh.RoutingTableRefresh,
      peerResponseEvent: (fields) => events.peerResponseEvent(fields, {}),
      defaults: {
        alpha: constants.ALPHA,
        // kad-dht.js: `this.d = init.disjointPaths ?? this.a`
        disjointPaths: constants.ALPHA,
        k: rt.KBUCKET_SIZE,
        prefixLength: rt.PREFIX_LENGTH
      }
    } satisfies KadInternals
  })()
  return loaded
}
