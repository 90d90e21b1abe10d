export { connectionDefaults } from './config.js'
export type {
  AbortOptions,
  AdmittedMember,
  ClosestPeersOptions,
  DHT,
  FindProvidersOptions,
  GetOptions,
  Logger,
  NodeSigner,
  PeerAdmission,
  PeerInfo,
  PeerMessaging,
  ProtocolHandler,
  ProvideOptions,
  ProvideResult,
  PutOptions,
  PutResult,
  ReceivedValue,
  RecordRules,
  RecordSelector,
  RecordSuccession,
  RecordValidator
} from './contract.js'
export {
  BootstrapError,
  DHT_ERROR_CODES,
  DHTConfigError,
  DHTError,
  type DHTErrorCode,
  DHTTimeoutError,
  dhtNotFound,
  dhtNotStarted,
  EquivocationError,
  InvalidKeyError,
  InvalidRecordError,
  NoPeersAcknowledgedError,
  NotFoundError,
  NotStartedError,
  PeerNotAdmittedError,
  PeerUnreachableError,
  ProtocolError,
  StaleRecordError,
  type UnacknowledgedOperation
} from './errors.js'
export {
  keyPeerDistance,
  keyPosition,
  log2Distance,
  peerPosition,
  sortByDistance,
  xorDistance
} from './keyspace.js'
export * from './libp2p/index.js'
export * from './local/index.js'
export * from './reputation/index.js'
export { checkSuccession } from './succession.js'
