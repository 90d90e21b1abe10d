/** The manager's counters, shared by the components that count, and the metrics built from them. */
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

/** What the metrics need of the managed keys: each key's last check. */
export interface CheckedKey {
  lastActual: number | undefined
  lastHealth: string | undefined
}

export function buildMetrics(
  keys: Iterable<CheckedKey>,
  totalKeys: number,
  totalProviders: number,
  counters: ReplicationCounters
): ReplicationMetrics {
  let sum = 0
  let checked = 0
  let healthy = 0
  let degraded = 0
  let critical = 0
  for (const e of keys) {
    if (e.lastActual == null) continue
    checked++
    sum += e.lastActual
    if (e.lastHealth === 'healthy') healthy++
    else if (e.lastHealth === 'degraded') degraded++
    else if (e.lastHealth === 'critical') critical++
  }
  return {
    totalKeys,
    totalProviders,
    ...counters,
    averageReplication: checked === 0 ? 0 : sum / checked,
    healthyKeys: healthy,
    degradedKeys: degraded,
    criticalKeys: critical
  }
}
