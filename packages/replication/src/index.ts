/**
 * @chorus/replication: keeps every CHORUS record on its target number of live nodes, with
 * liveness-checked provider tracking, repair over `/CHORUS/replicate/1.0.0`, reprovide and
 * republish, and persistent pins.
 */
export { defaultReplicationConfig, type ReplicationConfig } from './config.js'
export { keyPeerDistance, log2Distance, sortByDistance } from './distance.js'
export {
  InvalidArgumentError,
  ProtocolError,
  type RefusalCode,
  ReplicationError,
  ReplicationNotStartedError,
  ReplicationRefusedError,
  UnknownContentError,
  ValueUnavailableError
} from './errors.js'
export {
  type AddContentOptions,
  createReplicationManager,
  type HealthEvent,
  type PinnedEvent,
  type RepairResult,
  type ReplicatedEvent,
  type ReplicationComponents,
  type ReplicationEvents,
  type ReplicationInit,
  type ReplicationManager,
  type StatusOptions
} from './manager.js'
export { REPLICATE_PROTOCOL_SUFFIX } from './protocol.js'
export type { ProviderInfo, ReplicationHealth, ReplicationMetrics, ReplicationStatus } from './types.js'
