/** The lab benchmark's results (bench-results JSON, `details.lab`). */
import type { Summary } from '../stats.js'

export type LabCondition = 'direct' | 'relayed' | 'loss'

/** Latencies of one kind of operation, with the failures (not timed) beside them. */
export interface LabLatency {
  summary: Summary
  failed: number
  /** Failure messages with their counts (fixed texts: HTTP status and error code). */
  errors: Record<string, number>
}

export interface LabConditionResult {
  condition: LabCondition
  /** What this condition is, in a sentence (the pair of nodes and the fault). */
  setup: string
  chorusStore: LabLatency
  chorusRetrieve: LabLatency
  rawPut: LabLatency
  rawGet: LabLatency
  /** CHORUS retrieves made by an agent that had acknowledged the store (it held a replica: a local read). */
  readsFromOwnReplica: number
  /**
   * Relayed only: the NATed agent's relayed connections and direct upgrades (its /v1/status)
   * counted over the phase, which shows whether the relay carried the traffic.
   */
  relay?: { relayedConnections: number; directUpgrades: number }
  durationMs: number
  /** Set when the phase stopped early. */
  error?: string
}

export type LabResult =
  | {
      available: true
      /** When the lab benchmark ran (an `--only lab` run may sit beside older sections). */
      date: string
      layout: string
      method: string
      samples: number
      recordBytes: number
      loss: number
      conditions: LabConditionResult[]
      /** os.loadavg()[0] (1-minute load average) when the lab bench started and ended: other work on the machine. */
      loadAverage?: { start: number; end: number }
      notes: string[]
      durationMs: number
    }
  | { available: false; reason: string }
