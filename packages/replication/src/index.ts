/**
 * @chorus/replication: keeps every CHORUS record on its target number of live nodes, with
 * liveness-checked provider tracking, repair over `/CHORUS/replicate/1.0.0`, reprovide and
 * republish, and persistent pins.
 */

// The key-space helpers are @chorus/dht's; re-exported because this package's API has had them.
export { keyPeerDistance, log2Distance, sortByDistance } from '@chorus/dht'
export type {
  AddContentOptions,
  EquivocationEvent,
  HealthEvent,
  PinnedEvent,
  RepairResult,
  ReplicatedEvent,
  ReplicationComponents,
  ReplicationEvents,
  ReplicationManager,
  ReplicationPenalty,
  ReplicationReputation,
  StatusOptions
} from './api.js'
export {
  defaultReplicationConfig,
  type PeerRateLimit,
  type ReplicationConfig,
  type ReplicationInit,
  replicationDefaults
} from './config.js'
export {
  InvalidArgumentError,
  MalformedRequestError,
  REPLICATION_ERROR_CODES,
  type RefusalCode,
  ReplicationError,
  type ReplicationErrorCode,
  ReplicationNotStartedError,
  ReplicationProtocolError,
  ReplicationRefusedError,
  UnknownContentError,
  ValueUnavailableError
} from './errors.js'
export { createReplicationManager } from './manager.js'
export { REFUSAL_TEXT, REPLICATE_PROTOCOL_SUFFIX } from './protocol.js'
export { type SweepConfig, sweepDefaults } from './sweep/config.js'
export type { SweepMetrics } from './sweep/metrics.js'
export type { ProviderInfo, ReplicationHealth, ReplicationMetrics, ReplicationStatus } from './types.js'
