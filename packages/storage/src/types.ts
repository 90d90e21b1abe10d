import type { AbortOptions, DHT, Logger, NodeSigner, PeerMessaging } from '@chorus/dht'
import type { Consistency } from './config.js'
import type { RecordHolders } from './holders.js'
import type { WriteAuthority } from './record-check.js'
import type { Tombstones } from './tombstones.js'
import type { VerifiedRecordsStats } from './verified-records.js'

export type { Consistency, EncryptedStorageInit } from './config.js'

/** What storage needs from `@chorus/crypto`'s `AgeCrypto`. */
export interface StorageCrypto {
  /** Encrypts for every role allowed to read content created by `creatorRole`. */
  encryptUCXLContent(content: Uint8Array, creatorRole: string): Promise<Uint8Array>
  /** Decrypts with any identity this node holds; rejects with an access-denied error otherwise. */
  decryptWithRole(ciphertext: Uint8Array): Promise<{ plaintext: Uint8Array; role: string; keyId: string }>
  /** The roles that may read content created by `creatorRole` (it included). */
  decryptableRoles(creatorRole: string): string[]
}

/** What storage needs from `@chorus/crypto`'s `RoleRegistry`. */
export interface StorageRoles {
  has(name: string): boolean
  /** False for read-only roles. */
  canStore(name: string): boolean
}

/** What storage needs from `@chorus/crypto`'s `RoleKeyring`. */
export interface StorageKeyring {
  /** Whether this node holds a private key (age identity) of the role. */
  holdsRole(role: string): boolean
  /**
   * Whether this node still holds the private key with this id: cached plaintext opened by a key
   * no longer held is dropped (see `purgeRemovedKeys`).
   */
  holdsKey(keyId: string): boolean
}

export interface EncryptedStorageComponents {
  /** Where records go: a `LibP2PDHT`, a `HybridDHT`, or `createLocalDHT()` for one process. */
  dht: DHT
  crypto: StorageCrypto
  roles: StorageRoles
  /** The node's keyring: a node may only store as a role whose key it holds. */
  keyring: StorageKeyring
  /**
   * The node key: signs envelopes and the audit log's checkpoints, and its `publicKey` verifies
   * them (never a key read from the log); `LibP2PDHT.signer`.
   */
  signer: NodeSigner
  /**
   * The team's write rule (`@chorus/team`'s `TeamPolicy`), run on every record this storage opens
   * from outside (direct protocol, reads, chain walks, `indexEnvelope`) and on each of its own
   * stores before anything is encrypted. Give the DHT `chorusRecordRules({ authority })` with the
   * same one. Default: none, open mode (any record signed by the key it carries is accepted: for
   * tests and single-writer use).
   */
  authority?: WriteAuthority
  /**
   * This node's member certificate (its bytes, at most 2 KiB), read at each store so a reloaded
   * certificate reaches a running storage; every envelope this node writes carries it. Default:
   * none (envelopes carry `certificate: null`, which team mode refuses).
   */
  certificate?: () => Uint8Array | undefined
  logger?: Logger
  /**
   * Who is reachable, to cap the write quorum when the network is small. Default: the dht's own
   * `getConnectedPeers()` when it has one; otherwise the quorum is not capped.
   */
  peers?: { getConnectedPeers(): string[] }
  /**
   * Request/response messaging for the direct record protocol (`/CHORUS/storage/records/1.0.0`):
   * stores hand records to the closest connected peers and readers ask them, without a full
   * Kademlia lookup. Default: the dht itself when it implements PeerMessaging (LibP2PDHT does);
   * without it stores wait for kad-dht acknowledgements and reads use the full query.
   */
  messaging?: PeerMessaging
  /**
   * Who is known to hold each record, reported as `dhtPeers` in list, search, retrieve and store
   * results (`ReplicationManager.knownHolders` fits: the peers that proved they hold it). Asked
   * locally once per result, never the network. Default: none (`dhtPeers` then names only the
   * peers that acknowledged a store or served a read).
   */
  holders?: RecordHolders
  /**
   * The node's tombstone registry, the one its record rules were given
   * (`chorusRecordRules({ tombstones })`), so that a tombstone met on the DHT's validator path
   * (kad puts, the direct and replicate protocols) drops the address here too. Default: a registry
   * of this storage alone (tombstones met by its retrieves, indexing and deletes).
   */
  tombstones?: Tombstones
  /**
   * Called once for each tombstone this node accepts (its own delete, a retrieve, a push, the
   * validator path, replication), after the cache and index dropped the address: the agent tells
   * replication to stop keeping the deleted versions. Default: none.
   */
  onDeleted?(event: DeletedEvent): void
  /**
   * Called for each record a peer's direct push stored here (or that this node already held with
   * the same bytes), once it was validated and its succession checked: the agent hands it to
   * replication (`ReplicationManager.adoptStoredReplica`), so a store's push is also its first
   * replication. Default: none.
   */
  onPushed?(key: string, value: Uint8Array, from: string): void
}

/** A tombstone this node accepted. */
export interface DeletedEvent {
  /** The canonical address without temporal segment. */
  address: string
  /** The hex digest of the address (its record keys' middle segment). */
  digest: string
  /** The tombstone's version; versions 1 to `version - 1` are the deleted ones. */
  version: number
  /** The deleter asked every holder to drop the earlier versions. */
  purgeVersions: boolean
}

/** What `deleteUCXLContent` returns. */
export interface DeleteResult {
  /** The canonical address without temporal segment. */
  address: string
  /** The tombstone's version. */
  version: number
  deleted: true
  purgeVersions: boolean
  /** Distinct peers that acknowledged both records of the tombstone. */
  acks: number
}

export interface DeleteOptions extends AbortOptions {
  /** Every holder drops its copies of the earlier versions (and refuses them while the tombstone stands). */
  purgeVersions?: boolean
}

/** The reference's UCXLMetadata plus version, author and acknowledgements. */
export interface UCXLMetadata {
  /** Canonical address of this exact version (temporal segment `*~<version>`). */
  address: string
  /** Canonical address without temporal segment (shared by all versions). */
  baseAddress: string
  version: number
  creatorRole: string
  encryptedFor: string[]
  contentType: string
  /** Creation time, milliseconds since the Unix epoch. */
  timestamp: number
  /** Plaintext size in bytes. */
  size: number
  /** SHA-256 of the ciphertext, lowercase hex. */
  hash: string
  /** SHA-256 of the whole envelope (what the next version's `previous` names), hex. */
  envelopeHash: string
  /** SHA-256 of the previous version's envelope, hex; null for version 1. */
  previous: string | null
  /** The author's raw Ed25519 public key, hex. */
  author: string
  /**
   * Peers known to hold the record: those that acknowledged a store or served a read, and those
   * replication knows hold this version (see `EncryptedStorageComponents.holders`).
   */
  dhtPeers: string[]
  /** The target number of nodes holding the record (`init.replicationFactor`), not the write quorum. */
  replicationFactor: number
}

/** What `announceContent` returns. */
export interface AnnounceResult {
  /** Peers that acknowledged the announcement (at least one; none rejects). */
  peers: string[]
}

/** What `storeUCXLContent` returns. */
export interface StoreResult extends UCXLMetadata {
  /** Peers that acknowledged both the version and the head record before the store returned. */
  acks: number
}

export interface RetrieveOptions extends AbortOptions {
  /** Overrides `init.retrieveConsistency` for this call. */
  consistency?: Consistency
  /** Base version of a forward segment `^^N` (which resolves to version `from + N`). Default: 1. */
  from?: number
}

export interface RetrieveResult {
  content: Uint8Array
  metadata: UCXLMetadata
  /** Where the answer came from. */
  source: 'cache' | 'network' | 'local'
}

export interface SearchQuery {
  /** Exact value, or `any`/`*`/undefined for every value. Same for role, project, task. */
  agent?: string
  role?: string
  project?: string
  task?: string
  /** An address pattern (`matchesAddress` of @chorus/ucxl: `any` components, `*`/`**` path segments). */
  address?: string
  contentType?: string
  /** Creation time bounds (inclusive), as Date or ms since epoch. */
  createdAfter?: Date | number
  createdBefore?: Date | number
  /**
   * Decisions by their own fields (exact match): the decision's `task`, `author.agent` and
   * `author.role`. Only versions of content type `decision` that this node stored or opened
   * (retrieved and decrypted) match: the content is encrypted, so a replica it cannot read is not
   * searchable by them.
   */
  decisionTask?: string
  decisionAgent?: string
  decisionRole?: string
  /** Default 100, at most `maxListResults`. */
  limit?: number
  /** Every indexed version instead of the newest per address. Default: false. */
  allVersions?: boolean
}

export interface StorageMetrics {
  storedItems: number
  retrievedItems: number
  cacheHits: number
  cacheMisses: number
  encryptionOps: number
  decryptionOps: number
  /** Mean duration of successful stores, ms. */
  averageStoreTime: number
  /** Mean duration of successful retrieves (cache hits included), ms. */
  averageRetrieveTime: number
  /** Failed operations by error code. */
  errors: Record<string, number>
  /** Background operations in flight now (see `maxBackgroundTasks`). */
  backgroundTasks: number
  /** Times a store waited for background work to drain (`maxBackgroundTasks` reached). */
  backpressureWaits: number
  /** Entries in the cache (a version cached as latest counts twice). */
  cacheSize: number
  cacheBytes: number
  /**
   * The verified-record memo: records decoded and verified in full, checks it answered, and what it
   * holds now (entries, bytes).
   */
  verifiedRecords: VerifiedRecordsStats
  /** Versions in the local index. */
  indexedVersions: number
  /** ms since epoch of the last change. */
  lastUpdate: number
}

export interface AuditVerification {
  /** True only for a log whose every entry is signed by this node's key and which reaches its heads. */
  ok: boolean
  /** Entries checked (checkpoint lines not counted). */
  entries: number
  /** 1-based line of the first bad entry, when not ok. */
  line?: number
  reason?: string
  /** Audit logging is off (`auditLogging: false`): nothing was recorded or checked. */
  disabled?: true
}

export interface EncryptedStorage {
  /** Opens the index and audit log and starts the cache cleanup. Idempotent. */
  start(): Promise<void>
  /** Stops background work, flushes the audit log, closes the index. Idempotent. */
  stop(): Promise<void>
  /** Same as stop(). */
  close(): Promise<void>
  isStarted(): boolean
  /** Resolves when the background work started so far (rest of puts, repairs, refreshes) has settled. */
  whenIdle(): Promise<void>
  storeUCXLContent(
    address: string,
    content: Uint8Array | string,
    creatorRole: string,
    contentType: string,
    options?: AbortOptions
  ): Promise<StoreResult>
  retrieveUCXLContent(address: string, options?: RetrieveOptions): Promise<RetrieveResult>
  /**
   * Deletes the address: writes the next version of its chain as a signed tombstone (the same
   * policy and team write rule as a store, the same quorum push and kad puts). A latest read then
   * answers `ContentDeletedError` on every node that learns of it; earlier versions stay readable
   * by `*~N` unless `purgeVersions`; a later store starts the next version. Throws
   * `ContentNotFoundError` when nothing is there (or it is already deleted), `AccessDeniedError`
   * when the write rule refuses.
   */
  deleteUCXLContent(address: string, creatorRole: string, options?: DeleteOptions): Promise<DeleteResult>
  /**
   * Announces this node as a provider of the address (its head key); reports the peers that
   * acknowledged it. None: `AnnounceNotAcknowledgedError` (a `HybridDHT` below retries it from its
   * journal). Audited with the number of peers reached, or the failure.
   */
  announceContent(address: string, options?: AbortOptions): Promise<AnnounceResult>
  discoverContentPeers(address: string, options?: AbortOptions): Promise<string[]>
  listContentByRole(role: string, limit?: number): Promise<UCXLMetadata[]>
  searchContent(query: SearchQuery): Promise<UCXLMetadata[]>
  /**
   * Verifies a record this node received another way (replication pins it) and adds it to the
   * index; returns its metadata. Throws `IntegrityError` for a bad or conflicting record.
   */
  indexEnvelope(bytes: Uint8Array, source?: 'replicated' | 'retrieved'): Promise<UCXLMetadata>
  /** The newest version of the address known locally (index), without network; undefined if none. */
  localVersion(address: string): number | undefined
  startCacheCleanup(intervalMs?: number): void
  stopCacheCleanup(): void
  /** Removes expired cache entries; returns how many. */
  cleanupCache(): number
  /** Drops every cached version of the address. */
  invalidateCache(address: string): void
  /**
   * Drops every cached plaintext opened by a key this node no longer holds (and what it wrote as
   * a role it no longer holds); returns how many cache entries. Call it after removing role keys
   * (a cache hit checks the key too, so nothing is served from the cache meanwhile).
   */
  purgeRemovedKeys(): number
  getMetrics(): StorageMetrics
  verifyAuditLog(): Promise<AuditVerification>
}
