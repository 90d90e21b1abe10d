/**
 * Configuration of the replication manager, in one place: the reference's `ReplicationConfig`
 * fields with their defaults, the timings our real replication (repair, republish, liveness)
 * needs, and the manager's `ReplicationInit` (the config fields, all optional, plus where state
 * lives and the protocol prefix).
 */
import type { PinnedEvent } from './api.js'
import { InvalidArgumentError } from './errors.js'
import { checkSweepConfig, type SweepConfig, sweepDefaults } from './sweep/config.js'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const MiB = 1024 * 1024
const GiB = 1024 * MiB

/** A per-peer token bucket: `burst` requests at once, then `ratePerSecond`. */
export interface PeerRateLimit {
  burst: number
  ratePerSecond: number
}

export interface ReplicationConfig extends SweepConfig {
  /**
   * Target number of live nodes holding each record (this node included).
   * @default 3
   */
  replicationFactor: number
  /**
   * How often every held key is announced again as provided, in ms (12 h).
   * @default 43_200_000
   */
  reprovideInterval: number
  /**
   * How often stale provider entries (older than `providerTTL`) are dropped, in ms (1 h).
   * @default 3_600_000
   */
  cleanupInterval: number
  /**
   * Provider entries not seen for this long are removed by cleanup, in ms (24 h).
   * @default 86_400_000
   */
  providerTTL: number
  /**
   * At most this many providers are looked up, tracked and reported per key.
   * @default 10
   */
  maxProvidersPerKey: number
  /**
   * Provide at once on `addContent` and repair under-replicated records.
   * @default true
   */
  enableAutoReplication: boolean
  /**
   * Run the periodic reprovide (and republish) tasks.
   * @default true
   */
  enableReprovide: boolean
  /**
   * At most this many repairs (check and push) run at once; announcements run one at a time.
   * @default 5
   */
  maxConcurrentReplications: number
  /**
   * How often each held value is put to the network again, in ms (12 h). kad-dht (libp2p) drops
   * stored values after 48 h, so this must stay well below that. With `enableSweep` (the default)
   * the sweep keeps the holders' copies in step and the republish is a renewal in this node's own
   * record store, once every 24 h whatever this says (`SWEPT_RENEWAL_INTERVAL`).
   * @default 43_200_000
   */
  republishInterval: number
  /**
   * How often every held key's live holders are counted and, when too few, repaired, in ms (10 min).
   * With `enableSweep` (the default) it is the sweep's pass interval instead (when shorter than
   * `reprovideInterval`): every region's copies are compared with its holders' by one summary per
   * region and peer, and only what differs moves; a departed holder brings its keys' per-key
   * checks forward either way.
   * @default 600_000
   */
  repairInterval: number
  /**
   * First retry delay after a repair that could not reach the target factor, in ms.
   * @default 30_000
   */
  repairBackoffMin: number
  /**
   * Upper bound of the exponential repair back-off, in ms (30 min).
   * @default 1_800_000
   */
  repairBackoffMax: number
  /**
   * Extra delay per rank, in ms, for holders that are not the live holder closest to the key, so
   * that one holder repairs and the others only step in when it did not.
   * @default 15_000
   */
  repairRankDelay: number
  /**
   * How long a co-holder that disconnected may stay away before the keys it held are checked, in
   * ms (10 s). A restart, or a connection that drops and comes back, within it costs nothing; a
   * peer gone for longer has its keys checked at once (and the sweep compares every region once
   * per repair interval either way); the sweep keeps it in its regions' peer sets meanwhile, so
   * the next closest peer is not sent copies. 0 checks them as soon as it disconnects.
   * @default 10_000
   */
  departureGrace: number
  /**
   * Fraction (0..1) of random jitter added to every periodic and back-off delay.
   * @default 0.2
   */
  jitter: number
  /**
   * A failed liveness check is reused for this long before the peer is pinged again, in ms.
   * @default 30_000
   */
  livenessTTL: number
  /**
   * Timeout of one ping, one replicate request, or one value lookup, in ms.
   * @default 10_000
   */
  requestTimeout: number
  /**
   * Largest record value this node accepts to pin, in bytes (1 MiB).
   * @default 1_048_576
   */
  maxRecordBytes: number
  /**
   * A pushed record for a key this node does not hold is accepted only when this node is among
   * the `replicationFactor + holderSlack` peers closest to the key, of itself and the peers it is
   * connected to. The slack (by default the default factor) allows for the pusher seeing the
   * network otherwise: its connections differ from ours, a repair pushes past holders it already
   * counts, and peers come and go between its choice and our check.
   * @default 3
   */
  holderSlack: number
  /**
   * At most this many records pinned because one peer pushed them first; more are refused
   * (`QUOTA`). An application's own keys are not counted. High enough that an honest writer's
   * 100,000 stores of 1 KiB fit on each peer that should hold them (two records a store, its
   * version and its head: 120,000 records on a peer that holds 60 % of them, as with factor 3 on
   * five nodes); the count bounds the rows many tiny records would cost.
   * @default 250_000
   */
  maxRecordsPerPeer: number
  /**
   * At most this many bytes of records pinned because one peer pushed them first (1 GiB): the
   * 120,000 records above are about 276 MB (2.2 KiB a record of 1 KiB of content, encrypted and
   * signed), so a writer has room for about 3.5 times that on each peer.
   * @default 1_073_741_824
   */
  maxBytesPerPeer: number
  /**
   * At most this many bytes of records pinned because other peers pushed them, all peers
   * together (8 GiB): the disk this node gives its team. Over it a push is refused (`QUOTA`) as
   * over one peer's quota, and the sweep holds back from the region, so a team of many writers
   * cannot fill the disk where each stays within its own quota. An application's own keys are
   * not counted.
   * @default 8_589_934_592
   */
  maxPinnedBytes: number
  /**
   * A holder's proof of possession counts this long, in ms (1 h); after that it is challenged
   * again at the next check. A holder that silently lost a value counts at most this long.
   * @default 3_600_000
   */
  proofTTL: number
  /**
   * Per-peer rate of replicate pushes this node serves. Over it, a push is answered `BUSY` (try
   * again shortly; no penalty: an honest writer storing fast waits and is slowed down, not
   * charged), up to an allowance of half the burst refilled at half the rate; a sender that
   * ignores `BUSY` past it is refused as `RATE_LIMITED` before any validation and charged a
   * `flood` penalty.
   * @default { burst: 500, ratePerSecond: 100 }
   */
  pushRateLimit: PeerRateLimit
  /**
   * Per-peer rate of proofs of possession this node answers (each hashes a held value of up to
   * `maxRecordBytes`); over it `BUSY`, past the `BUSY` allowance `RATE_LIMITED` and a `flood`
   * penalty.
   * @default { burst: 200, ratePerSecond: 50 }
   */
  proveRateLimit: PeerRateLimit
  /**
   * Per-peer byte budget beside the request rates, in bytes: a replicate push takes its value's
   * length, a proof the length of the value it hashes. A flood of large records under the push
   * rate is throttled by bytes: over it `BUSY`, past the `BUSY` allowance `RATE_LIMITED` before
   * any validation and a `flood` penalty. 64 MiB at once, 16 MiB a second.
   * @default { burst: 67_108_864, ratePerSecond: 16_777_216 }
   */
  byteRateLimit: PeerRateLimit
  /**
   * Most jobs of each kind (repair, provide, republish) the scheduler keeps queued; each tick
   * reads at most this many due rows of each kind from the database, never every key.
   * @default 256
   */
  schedulerBatch: number
}

/** The reference's defaults (and ours for the added timings). */
export const replicationDefaults: Readonly<ReplicationConfig> = Object.freeze({
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
  departureGrace: 10 * SECOND,
  jitter: 0.2,
  livenessTTL: 30 * SECOND,
  requestTimeout: 10 * SECOND,
  maxRecordBytes: MiB,
  holderSlack: 3,
  maxRecordsPerPeer: 250_000,
  maxBytesPerPeer: GiB,
  maxPinnedBytes: 8 * GiB,
  proofTTL: HOUR,
  pushRateLimit: Object.freeze({ burst: 500, ratePerSecond: 100 }),
  proveRateLimit: Object.freeze({ burst: 200, ratePerSecond: 50 }),
  byteRateLimit: Object.freeze({ burst: 64 * MiB, ratePerSecond: 16 * MiB }),
  schedulerBatch: 256,
  ...sweepDefaults
})

/** A fresh copy of {@link replicationDefaults}. */
export function defaultReplicationConfig(): ReplicationConfig {
  return { ...replicationDefaults }
}

/** The second argument of `createReplicationManager`: every config field optional, plus these. */
export interface ReplicationInit extends Partial<ReplicationConfig> {
  /**
   * Directory for `replication.sqlite` (pins, provider entries, peer reachability, schedule).
   * @default undefined (state is kept in memory and lost on stop)
   */
  dataDir?: string
  /**
   * Prefix of the replicate protocol id: `<prefix>/replicate/1.0.0`.
   * @default '/CHORUS'
   */
  protocolPrefix?: string
  /**
   * Called after a value pushed by a peer is pinned (to index it, for example). Errors are logged.
   * @default undefined (none)
   */
  onPinned?: (event: PinnedEvent) => void | Promise<void>
}

/** The default protocol prefix (`/CHORUS/replicate/1.0.0`). */
export const DEFAULT_PROTOCOL_PREFIX = '/CHORUS'

/** The defaults with the init's defined config fields over them, checked. */
export function resolveConfig(init: ReplicationInit): ReplicationConfig {
  const { dataDir: _d, protocolPrefix: _p, onPinned: _o, ...overrides } = init
  const config = defaultReplicationConfig()
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v
  }
  checkConfig(config)
  return config
}

/** Throws `InvalidArgumentError` naming the first field out of range. */
export function checkConfig(c: ReplicationConfig): void {
  const positive: Array<keyof ReplicationConfig> = [
    'reprovideInterval',
    'cleanupInterval',
    'providerTTL',
    'republishInterval',
    'repairInterval',
    'repairBackoffMin',
    'repairBackoffMax',
    'livenessTTL',
    'requestTimeout',
    'maxRecordBytes',
    'maxBytesPerPeer',
    'maxPinnedBytes',
    'proofTTL'
  ]
  for (const f of positive) {
    const v = c[f]
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new InvalidArgumentError(f, `must be a positive number, got ${String(v)}`)
    }
  }
  for (const f of [
    'replicationFactor',
    'maxProvidersPerKey',
    'maxConcurrentReplications',
    'maxRecordsPerPeer',
    'schedulerBatch'
  ] as const) {
    if (!Number.isInteger(c[f]) || c[f] < 1) {
      throw new InvalidArgumentError(f, `must be an integer >= 1, got ${String(c[f])}`)
    }
  }
  if (!(c.repairRankDelay >= 0)) throw new InvalidArgumentError('repairRankDelay', 'must be >= 0')
  if (!(c.departureGrace >= 0)) throw new InvalidArgumentError('departureGrace', 'must be >= 0')
  if (!Number.isInteger(c.holderSlack) || c.holderSlack < 0) {
    throw new InvalidArgumentError('holderSlack', `must be an integer >= 0, got ${String(c.holderSlack)}`)
  }
  for (const f of ['pushRateLimit', 'proveRateLimit', 'byteRateLimit'] as const) {
    const r = c[f]
    const ok = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0
    if (r == null || !ok(r.burst) || !ok(r.ratePerSecond)) {
      throw new InvalidArgumentError(f, 'must be { burst, ratePerSecond } with positive numbers')
    }
  }
  if (!(c.jitter >= 0 && c.jitter <= 1)) throw new InvalidArgumentError('jitter', 'must be within 0..1')
  checkSweepConfig(c)
}
