/** The manager's counters, shared by the components that count, and the metrics built from them. */
import type { ContentStats } from './store.js'
import { createSweepCounters, type SweepMetrics } from './sweep/metrics.js'
import type { ReplicationMetrics } from './types.js'

/** Counters and last-run times (the metrics' own fields); each component increments its own. */
export type ReplicationCounters = Pick<
  ReplicationMetrics,
  | 'reprovideOperations'
  | 'failedReprovides'
  | 'successfulReplications'
  | 'failedReplications'
  | 'replicasReceived'
  | 'replicasRefused'
  | 'equivocations'
  | 'proofsRequested'
  | 'proofsFailed'
  | 'penalties'
  | 'republishOperations'
  | 'repairChecks'
  | 'repairMessages'
  | 'repairBytes'
  | 'providerLookups'
  | 'providerCacheHits'
  | 'lastReprovideTime'
  | 'lastCleanupTime'
  | 'lastRepairTime'
  | keyof SweepMetrics
>

export function createCounters(): ReplicationCounters {
  return {
    reprovideOperations: 0,
    failedReprovides: 0,
    successfulReplications: 0,
    failedReplications: 0,
    replicasReceived: 0,
    replicasRefused: 0,
    equivocations: 0,
    proofsRequested: 0,
    proofsFailed: 0,
    penalties: 0,
    republishOperations: 0,
    repairChecks: 0,
    repairMessages: 0,
    repairBytes: 0,
    providerLookups: 0,
    providerCacheHits: 0,
    lastReprovideTime: undefined,
    lastCleanupTime: undefined,
    lastRepairTime: undefined,
    ...createSweepCounters()
  }
}

/**
 * The metrics from the counters the database keeps over the managed keys (one row: no pass over
 * the keys), the provider entries' count and the components' counters.
 */
export function buildMetrics(
  stats: ContentStats | undefined,
  totalProviders: number,
  counters: ReplicationCounters
): ReplicationMetrics {
  const s = stats ?? {
    keys: 0,
    pinned: 0,
    pinnedBytes: 0,
    checked: 0,
    actualSum: 0,
    healthy: 0,
    degraded: 0,
    critical: 0
  }
  return {
    totalKeys: s.keys,
    pinnedKeys: s.pinned,
    pinnedBytes: s.pinnedBytes,
    totalProviders,
    ...counters,
    averageReplication: s.checked === 0 ? 0 : s.actualSum / s.checked,
    healthyKeys: s.healthy,
    degradedKeys: s.degraded,
    criticalKeys: s.critical
  }
}
