export { BackendsUnavailableError, HybridConfigError, HybridError, JournalError } from './errors.js'
export {
  createHybridDHT,
  type HybridDHT,
  type HybridDHTComponents,
  type HybridDHTInit,
  type ReplayResult
} from './hybrid-dht.js'
export { JOURNAL_FILE } from './journal.js'
export { closestPeersProbe, type HealthProbe, ProbeFailedError } from './probe.js'
export type {
  BackendHealth,
  BackendMetrics,
  BackendMode,
  BackendName,
  HealthStatus,
  HybridMetrics,
  JournalMetrics,
  LatencySummary,
  OperationName
} from './types.js'
