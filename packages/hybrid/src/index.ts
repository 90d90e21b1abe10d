export { type HybridDHTInit, hybridDefaults } from './config.js'
export {
  BackendsUnavailableError,
  HYBRID_ERROR_CODES,
  HybridConfigError,
  HybridError,
  type HybridErrorCode,
  JournalError,
  ProbeFailedError
} from './errors.js'
export { createHybridDHT, type HybridDHT, type HybridDHTComponents } from './hybrid-dht.js'
export { JOURNAL_FILE } from './journal.js'
export { closestPeersProbe, type HealthProbe } from './probe.js'
export type {
  BackendHealth,
  BackendMetrics,
  BackendMode,
  BackendName,
  HealthStatus,
  HybridMetrics,
  JournalMetrics,
  LatencySummary,
  OperationName,
  ReplayResult
} from './types.js'
