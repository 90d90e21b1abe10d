/** The two backends, named as in the reference: `real` is the network primary, `mock` the local fallback. */
export type BackendName = 'mock' | 'real'

/** `auto` lets health decide; `mock` and `real` pin a backend until switched again. */
export type BackendMode = BackendName | 'auto'

export type HealthStatus = 'healthy' | 'degraded' | 'failed'

/** The reference's `BackendHealth`. */
export interface BackendHealth {
  backend: BackendName
  /** `healthy`: last operation or probe succeeded; `degraded`: some consecutive failures, under the
   * threshold; `failed`: `failureThreshold` consecutive failures and not yet recovered. */
  status: HealthStatus
  /** When the backend last served an operation or a probe; `null` before the first. */
  lastCheck: Date | null
  /** Failures since the start. */
  errorCount: number
  /** Duration of the last operation or probe, in ms. */
  latency: number
  /** Consecutive failures (reset by a success). */
  consecutive: number
}

export type OperationName =
  | 'putValue'
  | 'getValue'
  | 'getValues'
  | 'provide'
  | 'findProviders'
  | 'getClosestPeers'
  | 'probe'
  | 'replay'

export interface LatencySummary {
  /** Samples in the window (the last `latencyWindow` operations). */
  count: number
  mean: number
  p50: number
  p95: number
  p99: number
  max: number
}

export interface BackendMetrics {
  /** Operations sent to this backend since the start (probes and replays included). */
  operations: number
  /** Of which failed (not-found answers are not failures). */
  errors: number
  byOperation: Partial<Record<OperationName, { operations: number; errors: number }>>
  /** Latency percentiles in ms over the recent window. */
  latency: LatencySummary
}

export interface JournalMetrics {
  /** Entries waiting for the network. */
  pending: number
  /** Entries journaled since the start. */
  appended: number
  /** Entries the network acknowledged on replay since the start. */
  replayed: number
  /** Entries the network refused as invalid on replay (logged; never retried). */
  dropped: number
  /**
   * Puts dropped on replay because the network already held their value or a better one (another
   * writer's newer record), so retrying could not succeed.
   */
  superseded: number
  /** Whether a replay is running now. */
  replaying: boolean
  lastReplayAt: Date | null
  /** The error that stopped the last replay, if it stopped early. */
  lastReplayError: string | null
}

export interface HybridMetrics {
  mode: BackendMode
  activeBackend: BackendName
  /** Automatic switches from `real` to `mock`. */
  failovers: number
  /** Automatic switches back from `mock` to `real`. */
  failbacks: number
  lastFailoverAt: Date | null
  lastFailbackAt: Date | null
  backends: Record<BackendName, BackendMetrics>
  journal: JournalMetrics
}

/** What one `replayJournal()` call did. */
export interface ReplayResult {
  /** Entries the primary acknowledged (and left the journal). */
  replayed: number
  /** Entries the primary refused as invalid (dropped, logged). */
  dropped: number
  /** Puts the network already held, or held a better record of (dropped, logged). */
  superseded: number
  /** Entries still waiting. */
  pending: number
  /** Why the replay stopped early, if it did. */
  error?: string
}
