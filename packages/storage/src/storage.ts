/**
 * `EncryptedDHTStorage`, the facade: it builds its components from one `components` object and
 * its `init` (as `@libp2p/kad-dht`'s `KadDHT` does), starts them in order, stops them in reverse,
 * and each public method delegates to one of them:
 *
 * - {@link LocalState}: the index and the audit log under `dataDir`;
 * - {@link RecordProtocolService}: serves the direct record protocol (`direct/`);
 * - {@link Background}: work that outlives its call, with backpressure;
 * - {@link WritePath}: store policy, per-address locks, quorum push, kad puts (`write/`);
 * - {@link ReadPath} over {@link RecordResolver}, {@link ChainVerifier}, {@link CandidateSource}
 *   and {@link ReadRepair}: temporal resolution, consistency modes, chain checks (`read/`);
 * - {@link Deletions}: what a tombstone met on any path drops (cache, index, purged records);
 * - {@link ContentDiscovery}, {@link Catalog}: provide/find providers, list/search/index;
 * - {@link AuditedOperations} with {@link toStorageError}: the audit entry and error mapping of
 *   every public operation.
 */
import { InvalidInputError } from '@chorus/common'
import type { AbortOptions, PeerMessaging } from '@chorus/dht'
import { resolveAddress, resolveContentAddress } from './address.js'
import { AuditedOperations } from './audited.js'
import { Background } from './background.js'
import { ContentCache, stillOpens } from './cache.js'
import { CacheCleanup } from './cache-cleanup.js'
import { Catalog } from './catalog.js'
import { type EncryptedStorageInit, REPAIR_INTERVAL_MS, resolveConfig } from './config.js'
import { Deletions } from './deletions.js'
import { directClient } from './direct/client.js'
import { RecordProtocolService } from './direct/service.js'
import { ContentDiscovery } from './discovery.js'
import { toStorageError } from './error-mapping.js'
import { STORAGE_ERROR_CODES } from './errors.js'
import { type KnownHolders, knownHolders, withKnownHolders } from './holders.js'
import type { IndexSource } from './index-db.js'
import { LocalState } from './local-state.js'
import { StorageCounters } from './metrics.js'
import { CandidateSource } from './read/candidate-source.js'
import { ChainVerifier } from './read/chain-verifier.js'
import { ReadPath } from './read/read-path.js'
import { ReadRepair } from './read/read-repair.js'
import { RecordResolver } from './read/resolver.js'
import { createRecordCheck, verifiedRecordsOf } from './record-check.js'
import { createTombstones } from './tombstones.js'
import type {
  AnnounceResult,
  AuditVerification,
  DeleteOptions,
  DeleteResult,
  EncryptedStorage,
  EncryptedStorageComponents,
  RetrieveOptions,
  RetrieveResult,
  SearchQuery,
  StorageMetrics,
  StoreResult,
  UCXLMetadata
} from './types.js'
import type { VerifiedRecords } from './verified-records.js'
import { AddressLocks } from './write/address-locks.js'
import { QuorumPush, requiredAcks } from './write/quorum-push.js'
import { WritePath } from './write/write-path.js'

/** A component with a lifecycle, in the facade's ordered list. */
interface Startable {
  start?(): void | Promise<void>
  beforeStop?(): void
  stop?(): void | Promise<void>
}

type ConnectedPeers = { getConnectedPeers(): string[] }

/** The messaging of the direct protocol: the one given, else the dht when it implements it. */
function messagingOf(components: EncryptedStorageComponents): PeerMessaging | undefined {
  if (components.messaging !== undefined) return components.messaging
  const d = components.dht as Partial<PeerMessaging>
  return typeof d.handle === 'function' &&
    typeof d.request === 'function' &&
    typeof d.getConnectedPeers === 'function'
    ? (components.dht as unknown as PeerMessaging)
    : undefined
}

/** Who is reachable, to cap the write quorum: the peers given, else the dht's own. */
function peersOf(components: EncryptedStorageComponents): ConnectedPeers | undefined {
  if (components.peers != null) return components.peers
  const d = components.dht as Partial<ConnectedPeers>
  return typeof d.getConnectedPeers === 'function'
    ? { getConnectedPeers: () => d.getConnectedPeers!() }
    : undefined
}

class EncryptedDHTStorage implements EncryptedStorage {
  readonly #metrics = new StorageCounters()
  readonly #cache: ContentCache
  readonly #verified: VerifiedRecords
  readonly #keyring: EncryptedStorageComponents['keyring']
  readonly #local: LocalState
  readonly #background: Background
  readonly #cleanup: CacheCleanup
  readonly #writer: WritePath
  readonly #reader: ReadPath
  readonly #discovery: ContentDiscovery
  readonly #catalog: Catalog
  readonly #holders: KnownHolders
  /** Started in this order, stopped in reverse. */
  readonly #lifecycle: Startable[]
  #started = false

  constructor(components: EncryptedStorageComponents, init: EncryptedStorageInit) {
    const cfg = resolveConfig(init)
    for (const c of ['dht', 'crypto', 'roles', 'keyring', 'signer'] as const) {
      if (components?.[c] == null) {
        throw new InvalidInputError(`components.${c}`, 'is required', {
          code: STORAGE_ERROR_CODES.BAD_REQUEST,
          message: `components.${c} is required`
        })
      }
    }
    const { dht, crypto, roles, keyring, signer, logger, authority, certificate } = components
    const tombstones = components.tombstones ?? createTombstones()
    // one record check for every path that opens a record from outside (team mode with an authority)
    const check = createRecordCheck({ authority })
    const metrics = this.#metrics
    const messaging = messagingOf(components)
    const peers = peersOf(components)
    const direct =
      messaging === undefined
        ? undefined
        : { client: directClient(messaging), getConnectedPeers: () => messaging.getConnectedPeers() }
    const acks = (): number => requiredAcks(cfg.writeQuorum, peers)

    const cache = new ContentCache({
      ttl: cfg.cacheTTL,
      maxEntries: cfg.cacheMaxEntries,
      maxBytes: cfg.cacheMaxBytes
    })
    const local = new LocalState({ signer, logger }, cfg)
    const protocol = new RecordProtocolService({
      dht,
      messaging,
      logger,
      authority,
      selfId: cfg.nodeId,
      ...(components.onPushed !== undefined ? { onStored: components.onPushed.bind(components) } : {})
    })
    const background = new Background({ logger, metrics }, cfg)
    const cleanup = new CacheCleanup({ cache, logger }, cfg)
    const invalidate = (address: string): void => {
      try {
        cache.invalidate(resolveAddress(address).base)
      } catch {
        // not an address: nothing cached under it
      }
    }
    const operations = new AuditedOperations({
      local,
      metrics,
      logger,
      mapError: (err, address) =>
        toStorageError(err, address, {
          dataDir: cfg.dataDir,
          requiredAcks: acks,
          onIntegrityFailure: invalidate
        })
    })
    const candidates = new CandidateSource({ dht, local, check, direct, logger }, cfg)
    const chain = new ChainVerifier({ local, candidates, logger }, cfg)
    const repair = new ReadRepair(
      { dht, background },
      { enabled: cfg.readRepair, interval: REPAIR_INTERVAL_MS }
    )
    const deletions = new Deletions({
      tombstones,
      local,
      cache,
      dht,
      background,
      onDeleted: components.onDeleted,
      logger
    })
    const resolver = new RecordResolver({ local, candidates, chain, repair, background, cache, logger }, cfg)
    const quorum = new QuorumPush(
      { direct, background, logger },
      { enabled: cfg.directReplication, directTimeout: cfg.directTimeout }
    )
    this.#verified = verifiedRecordsOf(authority)
    this.#writer = new WritePath(
      {
        dht,
        crypto,
        roles,
        keyring,
        signer,
        authority,
        // the memo every record check of this authority shares (the DHT's validators included)
        verified: this.#verified,
        certificate,
        local,
        candidates,
        operations,
        locks: new AddressLocks(),
        quorum,
        requiredAcks: acks,
        background,
        cache,
        tombstones,
        metrics,
        logger
      },
      cfg
    )
    this.#reader = new ReadPath(
      {
        operations,
        resolve: resolveContentAddress,
        resolver,
        cache,
        crypto,
        keyring,
        local,
        metrics,
        tombstones,
        shutdown: background
      },
      cfg
    )
    this.#discovery = new ContentDiscovery(
      { dht, operations, resolve: resolveContentAddress, shutdown: background },
      cfg
    )
    const holders = knownHolders(components.holders, cfg.nodeId)
    this.#holders = holders
    this.#catalog = new Catalog({ local, operations, check, holders, tombstones }, cfg)
    this.#cache = cache
    this.#keyring = keyring
    this.#local = local
    this.#background = background
    this.#cleanup = cleanup
    this.#lifecycle = [cache, local, deletions, protocol, background, cleanup]
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.#started) return
    const started: Startable[] = []
    try {
      for (const c of this.#lifecycle) {
        await c.start?.()
        started.push(c)
      }
    } catch (err) {
      for (const c of started.reverse()) await c.stop?.()
      throw err
    }
    this.#started = true
  }

  async stop(): Promise<void> {
    if (!this.#started) return
    this.#started = false
    const reversed = [...this.#lifecycle].reverse()
    for (const c of reversed) c.beforeStop?.()
    for (const c of reversed) await c.stop?.()
  }

  close(): Promise<void> {
    return this.stop()
  }

  isStarted(): boolean {
    return this.#started
  }

  whenIdle(): Promise<void> {
    return this.#background.drain()
  }

  // ---- content ---------------------------------------------------------------------------

  async storeUCXLContent(
    address: string,
    content: Uint8Array | string,
    creatorRole: string,
    contentType: string,
    options: AbortOptions = {}
  ): Promise<StoreResult> {
    const stored = await this.#writer.store(address, content, creatorRole, contentType, options.signal)
    return withKnownHolders(stored, this.#holders)
  }

  async retrieveUCXLContent(address: string, options: RetrieveOptions = {}): Promise<RetrieveResult> {
    const result = await this.#reader.retrieve(address, options)
    return { ...result, metadata: withKnownHolders(result.metadata, this.#holders) }
  }

  async deleteUCXLContent(
    address: string,
    creatorRole: string,
    options: DeleteOptions = {}
  ): Promise<DeleteResult> {
    return this.#writer.delete(address, creatorRole, options.purgeVersions === true, options.signal)
  }

  async announceContent(address: string, options: AbortOptions = {}): Promise<AnnounceResult> {
    return this.#discovery.announce(address, options.signal)
  }

  async discoverContentPeers(address: string, options: AbortOptions = {}): Promise<string[]> {
    return this.#discovery.discover(address, options.signal)
  }

  // ---- index -----------------------------------------------------------------------------

  async listContentByRole(role: string, limit = 100): Promise<UCXLMetadata[]> {
    return this.#catalog.listByRole(role, limit)
  }

  async searchContent(query: SearchQuery = {}): Promise<UCXLMetadata[]> {
    return this.#catalog.search(query)
  }

  async indexEnvelope(bytes: Uint8Array, source: IndexSource = 'replicated'): Promise<UCXLMetadata> {
    return this.#catalog.indexEnvelope(bytes, source)
  }

  localVersion(address: string): number | undefined {
    return this.#catalog.localVersion(address)
  }

  // ---- cache, metrics, audit ---------------------------------------------------------------

  startCacheCleanup(intervalMs = 5 * 60_000): void {
    this.#cleanup.schedule(intervalMs)
  }

  stopCacheCleanup(): void {
    this.#cleanup.stop()
  }

  cleanupCache(): number {
    return this.#cache.cleanup()
  }

  invalidateCache(address: string): void {
    this.#cache.invalidate(resolveAddress(address).base)
  }

  purgeRemovedKeys(): number {
    return this.#cache.purge((opener) => stillOpens(this.#keyring, opener))
  }

  getMetrics(): StorageMetrics {
    return this.#metrics.snapshot({
      backgroundTasks: this.#background.size,
      cacheSize: this.#cache.size,
      cacheBytes: this.#cache.bytes,
      verifiedRecords: this.#verified.stats(),
      indexedVersions: this.#local.count()
    })
  }

  async verifyAuditLog(): Promise<AuditVerification> {
    return this.#local.audit.verify()
  }
}

/**
 * Creates the encrypted storage. Call `start()` before use and `stop()` when done.
 *
 * ```ts
 * const storage = createEncryptedStorage(
 *   { dht, crypto, roles, keyring, signer: dht.signer, logger },
 *   { dataDir: '/var/lib/chorus/storage', nodeId: dht.peerId }
 * )
 * await storage.start()
 * ```
 */
export function createEncryptedStorage(
  components: EncryptedStorageComponents,
  init: EncryptedStorageInit
): EncryptedStorage {
  return new EncryptedDHTStorage(components, init)
}
