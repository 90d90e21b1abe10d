/** Public result types of the replication manager (the reference's shapes, in camelCase). */
import type { SweepMetrics } from './sweep/metrics.js'

/** Health of one record: `healthy` when actual >= target, `degraded` when fewer, `critical` when none. */
export type ReplicationHealth = 'healthy' | 'degraded' | 'critical'

export interface ProviderInfo {
  /** The provider's peer id. */
  peerId: string
  /** When this node first learned that the peer provides the key. */
  addedAt: Date
  /** When the peer last answered this node (ping or replicate), or when it was last seen as a provider. */
  lastSeen: Date
  /**
   * Reliability 0..1 from this node's own observations: reputation × (reachability + proof) / 2,
   * where reachability is an exponentially weighted share of its recent attempts to reach the
   * peer that succeeded (0.5 before any), proof is 1 for a current proof of possession, 0 after a
   * failed challenge for the key, 0.5 untested, and reputation is 0 for a banned peer, else
   * 1 minus its penalty points over 100. This node: 1. See `quality.ts`.
   */
  quality: number
  /**
   * Log2 XOR distance between the provider and the key in the DHT key space (SHA-256 of each):
   * the bit length of the XOR, 0..256, smaller is closer; 256 minus the shared leading bits.
   */
  distance: number
  /** The full XOR distance as 64 hex digits, for exact ordering. */
  xorDistance: string
  /** Whether the provider answered a liveness check within `livenessTTL` (this node: always true). */
  live: boolean
  /**
   * Whether it proved, within `proofTTL`, that it holds exactly the value this node holds (or
   * reads): only proven live providers count as holders. This node: whether it holds the key.
   */
  proven: boolean
}

export interface ReplicationStatus {
  key: string
  /** Desired number of live holders. */
  targetReplicas: number
  /**
   * Live holders now: providers that are reachable, DHT servers and proved possession of the
   * value, plus this node when it holds the value and is a DHT server. Copies on DHT clients (nodes
   * behind NAT) do not count: lookups cannot reach them.
   */
  actualReplicas: number
  /** Remote providers that are reachable, DHT servers and proved possession (this node not counted). */
  healthyProviders: number
  /** Last time this node announced the key, if ever. */
  lastReprovided: Date | undefined
  /** When this node started managing the key (undefined when it does not manage it). */
  createdAt: Date | undefined
  /** Size in bytes as given to `addContent` or received (0 when unknown). */
  size: number
  /** Replication priority (higher is more important). */
  priority: number
  health: ReplicationHealth
  /** Whether this node holds (pins) the value. */
  isLocal: boolean
  /** Providers found (at most `maxProvidersPerKey`): live ones first, each group closest to the key first. */
  providers: ProviderInfo[]
}

export interface ReplicationMetrics extends SweepMetrics {
  /** Keys this node manages. */
  totalKeys: number
  /** Managed keys whose value this node holds (pins), and the bytes of those values. */
  pinnedKeys: number
  pinnedBytes: number
  /** Provider entries tracked across all keys. */
  totalProviders: number
  /** Announcements (provide, reprovide) that at least one peer acknowledged. */
  reprovideOperations: number
  /** Announcements no peer acknowledged, or that failed (retried after a back-off). */
  failedReprovides: number
  /** Replicate pushes a peer accepted. */
  successfulReplications: number
  /** Replicate pushes that failed or were refused. */
  failedReplications: number
  /** When an announcement last reached peers. */
  lastReprovideTime: Date | undefined
  /** When the provider cache was last cleaned up (every `cleanupInterval`). */
  lastCleanupTime: Date | undefined
  /** Mean live holders over the managed keys, as of each key's last check. */
  averageReplication: number
  /** Values this node pinned because a peer pushed them. */
  replicasReceived: number
  /** Replicate requests this node refused (invalid, too large, malformed, not a target, quota...). */
  replicasRefused: number
  /** Pushed records refused because they contradict the pinned one (same author, same version). */
  equivocations: number
  /** Proofs of possession this node asked for, and those that failed (not held, other value, wrong proof). */
  proofsRequested: number
  proofsFailed: number
  /** Offences of peers found (reported to the reputation system when the node gave one). */
  penalties: number
  /** Values put to the network again by republish. */
  republishOperations: number
  /** Repair checks run (one per key per check). */
  repairChecks: number
  /** Replicate requests sent, and the request bytes they carried. */
  repairMessages: number
  repairBytes: number
  lastRepairTime: Date | undefined
  /** Provider lookups sent into the DHT (background checks first use what this node already knows). */
  providerLookups: number
  /** `findProviders` calls answered from the provider cache (no DHT query on the caller's path). */
  providerCacheHits: number
  /** Keys by health at their last check (never-checked keys are not counted). */
  healthyKeys: number
  degradedKeys: number
  criticalKeys: number
}
