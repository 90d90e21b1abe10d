/** The sweep's options (part of `ReplicationConfig`), their defaults and checks. */
import type { PeerRateLimit } from '../config.js'
import { InvalidArgumentError } from '../errors.js'

export interface SweepConfig {
  /**
   * Reprovide, republish and repair of healthy keys by a keyspace sweep instead of per-key
   * provides, puts and checks: a pass every `repairInterval` (at most `reprovideInterval`) with
   * one summary exchange per region and target peer, and one closest-peers lookup per region on
   * one pass per `reprovideInterval`. A key's first provide stays immediate.
   * @default true
   */
  enableSweep: boolean
  /**
   * About this many of this node's keys per sweep region: the region prefix is long enough that
   * keys held / 2^bits stays at or below it (and that a region holds about 8 peers or fewer).
   * @default 256
   */
  sweepRegionKeys: number
  /**
   * Sync exchanges (summary, leaves, records) with a region's target peers run at most this many at once.
   * @default 4
   */
  sweepConcurrency: number
  /**
   * Per-peer rate of sweep sync requests this node serves; over it `BUSY`, past the `BUSY`
   * allowance (half the burst, refilled at half the rate) `RATE_LIMITED` and a `flood` penalty. Record batches also take their value bytes from
   * `byteRateLimit`.
   * @default { burst: 200, ratePerSecond: 50 }
   */
  syncRateLimit: PeerRateLimit
}

export const sweepDefaults: Readonly<SweepConfig> = Object.freeze({
  enableSweep: true,
  sweepRegionKeys: 256,
  sweepConcurrency: 4,
  syncRateLimit: Object.freeze({ burst: 200, ratePerSecond: 50 })
})

export function checkSweepConfig(c: SweepConfig): void {
  if (typeof c.enableSweep !== 'boolean') throw new InvalidArgumentError('enableSweep', 'must be a boolean')
  for (const f of ['sweepRegionKeys', 'sweepConcurrency'] as const) {
    if (!Number.isInteger(c[f]) || c[f] < 1) {
      throw new InvalidArgumentError(f, `must be an integer >= 1, got ${String(c[f])}`)
    }
  }
  const r = c.syncRateLimit
  const ok = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0
  if (r == null || !ok(r.burst) || !ok(r.ratePerSecond)) {
    throw new InvalidArgumentError('syncRateLimit', 'must be { burst, ratePerSecond } with positive numbers')
  }
}
