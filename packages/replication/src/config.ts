/**
 * Configuration of the replication manager: the reference's `ReplicationConfig` fields with their
 * defaults, plus the timings our real replication (repair, republish, liveness) needs.
 */

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

export interface ReplicationConfig {
  /** Target number of live nodes holding each record (this node included). Default: 3. */
  replicationFactor: number
  /** How often every held key is announced again as provided. Default: 12 h. */
  reprovideInterval: number
  /** How often stale provider entries (older than `providerTTL`) are dropped. Default: 1 h. */
  cleanupInterval: number
  /** Provider entries not seen for this long are removed by cleanup. Default: 24 h. */
  providerTTL: number
  /** At most this many providers are looked up, tracked and reported per key. Default: 10. */
  maxProvidersPerKey: number
  /** Provide at once on `addContent` and repair under-replicated records. Default: true. */
  enableAutoReplication: boolean
  /** Run the periodic reprovide (and republish) tasks. Default: true. */
  enableReprovide: boolean
  /** At most this many background operations (provide, repair, republish) run at once. Default: 5. */
  maxConcurrentReplications: number
  /**
   * How often each held value is put to the network again. @libp2p/kad-dht drops stored values
   * after 48 h, so this must stay well below that. Default: 12 h.
   */
  republishInterval: number
  /** How often every held key's live holders are counted and, when too few, repaired. Default: 10 min. */
  repairInterval: number
  /** First retry delay after a repair that could not reach the target factor. Default: 30 s. */
  repairBackoffMin: number
  /** Upper bound of the exponential repair back-off. Default: 30 min. */
  repairBackoffMax: number
  /**
   * Extra delay per rank for holders that are not the live holder closest to the key, so that
   * one holder repairs and the others only step in when it did not. Default: 15 s.
   */
  repairRankDelay: number
  /** Fraction (0..1) of random jitter added to every periodic and back-off delay. Default: 0.2. */
  jitter: number
  /** A ping result is reused for this long before a peer is pinged again. Default: 30 s. */
  livenessTTL: number
  /** Timeout of one ping, one replicate request, or one provider/closest-peer lookup. Default: 10 s. */
  requestTimeout: number
  /** Largest record value this node accepts to pin. Default: 1 MiB. */
  maxRecordBytes: number
}

/** The reference's defaults (and ours for the added timings). */
export function defaultReplicationConfig(): ReplicationConfig {
  return {
    replicationFactor: 3,
    reprovideInterval: 12 * HOUR,
    cleanupInterval: HOUR,
    providerTTL: 24 * HOUR,
    maxProvidersPerKey: 10,
    enableAutoReplication: true,
    enableReprovide: true,
    maxConcurrentReplications: 5,
    republishInterval: 12 * HOUR,
    repairInterval: 10 * MINUTE,
    repairBackoffMin: 30 * SECOND,
    repairBackoffMax: 30 * MINUTE,
    repairRankDelay: 15 * SECOND,
    jitter: 0.2,
    livenessTTL: 30 * SECOND,
    requestTimeout: 10 * SECOND,
    maxRecordBytes: 1024 * 1024
  }
}
