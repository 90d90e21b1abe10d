/**
 * The storage's options and their defaults, in one place: {@link EncryptedStorageInit} (every
 * option with its `@default`), {@link encryptedStorageDefaults} and {@link resolveConfig}, which
 * the facade calls once.
 */
import { InvalidInputError } from '@chorus/common'
import { STORAGE_ERROR_CODES } from './errors.js'

/** How `*^` (latest) is read on a cache miss (see `EncryptedStorageInit.retrieveConsistency`). */
export type Consistency = 'closest' | 'network' | 'local-first'

export interface EncryptedStorageInit {
  /**
   * Directory of the index database (`storage-index.sqlite`) and the audit log (`audit.log`).
   * @default undefined (required)
   */
  dataDir: string
  /**
   * This node's id as written in audit records (e.g. the peer id).
   * @default undefined (required)
   */
  nodeId: string
  /**
   * Cache time to live in ms (10 min).
   * @default 600_000
   */
  cacheTTL?: number
  /**
   * Most cache entries, an optional bound besides `cacheMaxBytes` (a version cached as latest
   * counts twice).
   * @default undefined (no bound on entries: the cache is bounded in bytes)
   */
  cacheMaxEntries?: number
  /**
   * Most bytes the cache holds (16 MiB), each entry counted with its plaintext, its metadata, its
   * key and a fixed overhead, so many small entries are bounded as well as a few large ones. A
   * writer caches what it stores, so the cache fills with the records written: at 64 MiB it was
   * half of a writer's RSS growth from 1,000 to 20,000 records.
   * @default 16 * 1024 * 1024
   */
  cacheMaxBytes?: number
  /**
   * Largest content accepted by `storeUCXLContent`, in bytes (1 MiB).
   * @default 1024 * 1024
   */
  maxContentBytes?: number
  /**
   * Peers that must acknowledge both the version and the head record before a store succeeds;
   * capped at the number of reachable peers (so 0 with no peers: the record is then only held
   * locally until replication republishes it).
   * @default 3
   */
  writeQuorum?: number
  /**
   * The target number of nodes holding each record (replication's factor), reported as
   * `replicationFactor` in every metadata; the agent sets it from its replication settings. Not
   * the write quorum, which is how many must acknowledge before a store returns.
   * @default 3
   */
  replicationFactor?: number
  /**
   * Time a store may take to reach its quorum, in ms.
   * @default 30_000
   */
  storeTimeout?: number
  /**
   * Time a retrieve may take, in ms.
   * @default 30_000
   */
  retrieveTimeout?: number
  /**
   * Time announce/discover may take, in ms.
   * @default 30_000
   */
  announceTimeout?: number
  /**
   * Time the background part of a store (remaining puts, provide) may take, in ms.
   * @default 120_000
   */
  backgroundTimeout?: number
  /**
   * Background operations (the kad puts that finish after a store returned, provides, direct
   * pushes, read repairs) in flight at most (at least 1). A store that finds this many waits,
   * within its own timeout, until one ends: a burst of stores slows to the rate the network
   * absorbs them instead of piling up unbounded work.
   * @default 64
   */
  maxBackgroundTasks?: number
  /**
   * Announce (provide) the head key after each store, in the background. Each announce is a full
   * Kademlia query; the replication layer (re)provides what it pins.
   * @default false
   */
  announceOnStore?: boolean
  /**
   * Before writing the first version of an address this node has no record of, ask the connected
   * peer nearest it for the head: stores push every version there. Without it, a node whose data
   * directory was lost while its key was kept would sign a second version 1 of its own addresses:
   * an equivocation its peers refuse and charge. Asked only while the local index is one created
   * at this start (an index kept from before holds every version this node signed), at one direct
   * request per first store of an address.
   * @default true
   */
  headsFromNetwork?: boolean
  /**
   * Interval of the cache cleanup that `start()` schedules, in ms (5 min); 0 disables.
   * @default 300_000
   */
  cacheCleanupInterval?: number
  /**
   * Most results of `listContentByRole` and `searchContent`.
   * @default 1000
   */
  maxListResults?: number
  /**
   * How `*^` (latest) is read on a cache miss:
   * - `'closest'`: ask the `directReadPeers` connected peers closest to the key (where stores put
   *   their quorum) and this node's own store over the direct protocol, take the newest valid
   *   version; fall back to `'network'` when none answers; when they disagree, refresh with a full
   *   query in the background. Needs messaging; otherwise behaves as `'network'`.
   * - `'network'`: ask every peer on the query path (`dht.getValues`) and take the newest valid
   *   version of the author chain;
   * - `'local-first'`: answer from this node's own copy (index or its DHT record store) when it
   *   has one, refreshing from the network in the background (faster, may be one update behind).
   * Every mode refuses a version below one this node has seen (no rollback). Fixed versions
   * (`*~N`, `*~`, `~~N`, `^^N` once resolved) are immutable and always read locally first.
   * @default 'closest'
   */
  retrieveConsistency?: Consistency
  /**
   * Hand stores directly to the closest connected peers (needs messaging).
   * @default true
   */
  directReplication?: boolean
  /**
   * Peers asked by a `'closest'` read.
   * @default writeQuorum (3)
   */
  directReadPeers?: number
  /**
   * Time one direct request may take, in ms.
   * @default 10_000
   */
  directTimeout?: number
  /**
   * Put the newest head back when peers answered with older ones (background, at most every 5 s
   * per address).
   * @default true
   */
  readRepair?: boolean
  /**
   * Most predecessors a read fetches to check that a version chains (same author, matching
   * `previous` hash) back to a version this node trusts or to version 1 (at least 1). Verified
   * links are remembered, so the walk is short after the first read. Past the bound, version 1
   * must have the same author.
   * @default 64
   */
  maxChainWalk?: number
  /**
   * Most newer versions a `*^` read looks for at the immutable version keys (`/v/<n+1>`...) after
   * choosing the head: every head copy may have been rolled back to an older genuine record.
   * 0 turns the probe off.
   * @default 16
   */
  maxSuccessorProbe?: number
  /**
   * Time one successor probe (local store plus the closest connected peers) may take, in ms.
   * @default 2_000
   */
  successorProbeTimeout?: number
  /**
   * Append every operation to the signed audit log (`<dataDir>/audit.log`). Off: nothing is
   * appended and `verifyAuditLog()` reports `{ ok: false, disabled: true }`.
   * @default true
   */
  auditLogging?: boolean
}

/** The defaults of every optional {@link EncryptedStorageInit} option with a fixed default. */
export const encryptedStorageDefaults = {
  cacheTTL: 10 * 60_000,
  cacheMaxBytes: 16 * 1024 * 1024,
  maxContentBytes: 1024 * 1024,
  writeQuorum: 3,
  replicationFactor: 3,
  storeTimeout: 30_000,
  retrieveTimeout: 30_000,
  announceTimeout: 30_000,
  backgroundTimeout: 120_000,
  maxBackgroundTasks: 64,
  announceOnStore: false,
  headsFromNetwork: true,
  cacheCleanupInterval: 5 * 60_000,
  maxListResults: 1000,
  retrieveConsistency: 'closest' as Consistency,
  readRepair: true,
  directReplication: true,
  directTimeout: 10_000,
  maxChainWalk: 64,
  maxSuccessorProbe: 16,
  successorProbeTimeout: 2_000,
  auditLogging: true
} as const

/** Least time between two read repairs of one address, in ms. */
export const REPAIR_INTERVAL_MS = 5_000

/** Every option resolved: what the components are built from. */
export type StorageConfig = Required<Omit<EncryptedStorageInit, 'cacheMaxEntries'>> &
  Pick<EncryptedStorageInit, 'cacheMaxEntries'>

/** Checks the required options and fills in the defaults (with the bounds the options state). */
export function resolveConfig(init: EncryptedStorageInit): StorageConfig {
  const required = (field: 'dataDir' | 'nodeId'): string => {
    const value: unknown = init?.[field]
    if (typeof value !== 'string' || value === '') {
      throw new InvalidInputError(`init.${field}`, 'is required', {
        code: STORAGE_ERROR_CODES.BAD_REQUEST,
        message: `init.${field} is required`
      })
    }
    return value
  }
  const d = encryptedStorageDefaults
  return {
    dataDir: required('dataDir'),
    nodeId: required('nodeId'),
    cacheTTL: init.cacheTTL ?? d.cacheTTL,
    cacheMaxEntries: init.cacheMaxEntries,
    cacheMaxBytes: init.cacheMaxBytes ?? d.cacheMaxBytes,
    maxContentBytes: init.maxContentBytes ?? d.maxContentBytes,
    writeQuorum: init.writeQuorum ?? d.writeQuorum,
    replicationFactor: Math.max(1, init.replicationFactor ?? d.replicationFactor),
    storeTimeout: init.storeTimeout ?? d.storeTimeout,
    retrieveTimeout: init.retrieveTimeout ?? d.retrieveTimeout,
    announceTimeout: init.announceTimeout ?? d.announceTimeout,
    backgroundTimeout: init.backgroundTimeout ?? d.backgroundTimeout,
    maxBackgroundTasks: Math.max(1, init.maxBackgroundTasks ?? d.maxBackgroundTasks),
    announceOnStore: init.announceOnStore ?? d.announceOnStore,
    headsFromNetwork: init.headsFromNetwork ?? d.headsFromNetwork,
    cacheCleanupInterval: init.cacheCleanupInterval ?? d.cacheCleanupInterval,
    maxListResults: init.maxListResults ?? d.maxListResults,
    retrieveConsistency: init.retrieveConsistency ?? d.retrieveConsistency,
    readRepair: init.readRepair ?? d.readRepair,
    directReplication: init.directReplication ?? d.directReplication,
    directReadPeers: init.directReadPeers ?? init.writeQuorum ?? d.writeQuorum,
    directTimeout: init.directTimeout ?? d.directTimeout,
    maxChainWalk: Math.max(1, init.maxChainWalk ?? d.maxChainWalk),
    maxSuccessorProbe: Math.max(0, init.maxSuccessorProbe ?? d.maxSuccessorProbe),
    successorProbeTimeout: init.successorProbeTimeout ?? d.successorProbeTimeout,
    auditLogging: init.auditLogging ?? d.auditLogging
  }
}
