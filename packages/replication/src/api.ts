/** The public types of the replication manager: components, init, events, results, the interface. */
import type {
  AbortOptions,
  DHT,
  Logger,
  PeerMessaging,
  ProvideResult,
  RecordSelector,
  RecordSuccession,
  RecordValidator
} from '@chorus/dht'
import type { ReplicationConfig } from './config.js'

export type { ReplicationInit } from './config.js'

import type { ProviderInfo, ReplicationHealth, ReplicationMetrics, ReplicationStatus } from './types.js'

/** What the manager needs from its node. */
export interface ReplicationComponents {
  /** The node's DHT (a `LibP2PDHT`, or any `DHT`). */
  dht: DHT
  /** Request/response messaging and ping between peers (a `LibP2PDHT` implements it). */
  messaging: PeerMessaging
  /** The same validator the DHT runs for the records' namespace; incoming replicas must pass it. */
  validate: RecordValidator
  /**
   * The namespace's selector, used only without `succession`: a pushed value replaces a pinned
   * one only if the selector prefers it. Without either, a pushed value replaces a pin a peer
   * pushed, never one of this node's application.
   */
  select?: RecordSelector | undefined
  /**
   * The namespace's succession rule (storage exports the CHORUS one). When given, a pushed value
   * replaces the pinned one only when `succession(key, pinned, pushed)` returns; on
   * `StaleRecordError` the pinned one stays (refusal `STALE`), on `EquivocationError` too
   * (refusal `EQUIVOCATION`, counted, `equivocation` event). Default: the selector decides.
   */
  succession?: RecordSuccession | undefined
  /**
   * Where offences of peers are reported (a `LibP2PDHT`'s `reputation`): an undecodable request
   * (`invalid-message`), a refused record (`invalid-record`), a claimed holder that cannot prove
   * it (`bogus-provider`), pushes or proofs over the rate limit (`flood`). Default: none.
   */
  reputation?: ReplicationReputation | undefined
  /** Where logs go. Default: nowhere. */
  logger?: Logger
}

/** The offences this package reports (a subset of `@chorus/dht`'s `PenaltyReason`). */
export type ReplicationPenalty = 'invalid-message' | 'bogus-provider' | 'invalid-record' | 'flood'

/** What replication needs of a reputation system (`PeerReputation` of `@chorus/dht` fits). */
export interface ReplicationReputation {
  penalise(peer: string, reason: ReplicationPenalty): void
  /** The peer's penalty points now (0: clean); lowers its providers' quality. Optional. */
  score?(peer: string): number
  /** Whether the peer is banned now (its providers' quality is 0). Optional. */
  isBanned?(peer: string): boolean
}

/** Event details. */
export interface PinnedEvent {
  key: string
  value: Uint8Array
  /** The peer that pushed it, or `'self'` when the application added it. */
  from: string
}
export interface ReplicatedEvent {
  key: string
  /** The peer that accepted the value. */
  peer: string
}
export interface EquivocationEvent {
  key: string
  /** The raw 32-byte Ed25519 key of the author who signed both records. */
  authorKey: Uint8Array
  /** The peer that pushed the contradicting record (a relay, not necessarily the author). */
  from: string
}
export interface HealthEvent {
  key: string
  health: ReplicationHealth
  actualReplicas: number
  targetReplicas: number
}
export interface ReplicationEvents {
  /** A value was pinned on this node (pushed by a peer or added locally). */
  pinned: PinnedEvent
  /** A key stopped being managed here (`removeContent`). */
  unpinned: { key: string }
  /** This node pushed a value to a peer that accepted it. */
  replicated: ReplicatedEvent
  /** A key's health changed at a check. */
  health: HealthEvent
  /** A peer pushed a record that contradicts the pinned one; the pinned one stayed. */
  equivocation: EquivocationEvent
}

export interface AddContentOptions extends AbortOptions {
  /** The value to pin. Default: read from this node's DHT record store, else from the network. */
  value?: Uint8Array
  /**
   * Peers that acknowledged holding this very value (the direct push of a store), this node
   * excluded. With the value new and these peers making the target, the first spread and the
   * first announcement are skipped: the push already placed the copies, and each of these peers
   * noted both itself and this node as providers (`DHT.noteProviders`). The key is checked and
   * announced again on its normal schedule. Default: none (spread and announce at once).
   */
  holders?: readonly string[]
}

export interface StatusOptions extends AbortOptions {
  /** Ask the DHT for providers even when the holders this node knows already meet the target. Default: false. */
  refresh?: boolean
}

/** Result of one check-and-repair of a key. */
export interface RepairResult {
  key: string
  /** Live holders before repair. */
  before: number
  /** Live holders after repair (before + accepted pushes). */
  after: number
  target: number
  /** Peers that accepted the value in this repair. */
  pushedTo: string[]
  /** Why nothing was pushed, when nothing was. */
  skipped?: 'healthy' | 'not-holder' | 'deferred' | 'disabled'
}

export interface ReplicationManager {
  /** The effective configuration. */
  readonly config: Readonly<ReplicationConfig>
  /** The replicate protocol id served. */
  readonly protocol: string
  start(): Promise<void>
  stop(): Promise<void>
  isStarted(): boolean
  /** Manage a key this node stored: pin its value, provide it at once and keep it replicated. */
  addContent(key: string, size: number, priority: number, options?: AddContentOptions): Promise<void>
  /** Stop managing a key and drop its pin (values already in DHT record stores expire on their own). */
  removeContent(key: string, options?: AbortOptions): Promise<void>
  /**
   * The application deleted these records (the versions before a tombstone): each stops being
   * managed (no reprovide, repair or republish; its copies expire on their own) and a peer's push
   * of it is refused as stale until `addContent` adds it again. Keys not managed here are retired
   * too. Resolves to how many were managed.
   */
  retireContent(keys: string[], options?: AbortOptions): Promise<number>
  /**
   * Announce now that this node provides the key; reports the peers that acknowledged it. None:
   * `NoPeersAcknowledgedError` of `@chorus/dht` (counted in `failedReprovides`).
   */
  provideContent(key: string, options?: AbortOptions): Promise<ProvideResult>
  /**
   * Providers of the key, at most `limit` (default `maxProvidersPerKey`), each with its quality and
   * XOR distance to the key, best quality first, then closest. Answered from the provider cache
   * (TTL `providerTTL`, refreshed in the background once older) when it knows a provider of the
   * key; the DHT is asked on the call's path only when it knows none.
   */
  findProviders(key: string, limit?: number, options?: AbortOptions): Promise<ProviderInfo[]>
  /**
   * Peers that proved, within `proofTTL`, that they hold the key's value (most recent proof
   * first, this node left out): what this node knows without asking anyone. Empty while stopped.
   */
  knownHolders(key: string): string[]
  /**
   * A record this node's DHT record store just accepted in full from peer `from` over another
   * protocol that validated it and checked its succession (the storage direct push): pinned as a
   * replica under a replicate push's rules (this node among the key's closest, the sender's quota,
   * never over a key this node's application stored), without a second validation or write.
   * Returns whether it is pinned now; false while stopped.
   */
  adoptStoredReplica(key: string, value: Uint8Array, from: string): boolean
  /**
   * Live holders and health of any key (managed here or not). The holders this node already knows
   * (its pushes, replicas it received with their co-holders, earlier lookups) are checked first;
   * the DHT is asked only when they are fewer than the target, or always with `refresh: true`.
   */
  getReplicationStatus(key: string, options?: StatusOptions): Promise<ReplicationStatus>
  getMetrics(): ReplicationMetrics
  /** Check the key's live holders now and push it to peers until the target is met. */
  repair(key: string, options?: AbortOptions): Promise<RepairResult>
  /** Push this node's pinned value of the key to one peer; rejects with the peer's refusal. */
  replicateTo(peer: string, key: string, options?: AbortOptions): Promise<void>
  /**
   * Keys managed by this node, in key order; with `prefix`, only the keys that start with it (read
   * from an index: the cost grows with the keys listed, not with every key managed).
   */
  listContent(prefix?: string): string[]
  /** Whether this node manages the key (one indexed lookup; false while stopped). */
  hasContent(key: string): boolean
  /** The value pinned here for the key, if any. */
  getPinnedValue(key: string): Uint8Array | undefined
  addEventListener<K extends keyof ReplicationEvents>(
    type: K,
    listener: (event: CustomEvent<ReplicationEvents[K]>) => void,
    options?: { once?: boolean; signal?: AbortSignal }
  ): void
  removeEventListener<K extends keyof ReplicationEvents>(
    type: K,
    listener: (event: CustomEvent<ReplicationEvents[K]>) => void
  ): void
}
