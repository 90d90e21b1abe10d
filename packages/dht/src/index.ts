export type {
  AbortOptions,
  ClosestPeersOptions,
  Dht,
  FindProvidersOptions,
  GetOptions,
  Logger,
  NodeSigner,
  PeerInfo,
  PeerMessaging,
  ProtocolHandler,
  ProvideOptions,
  PutOptions,
  PutResult,
  ReceivedValue,
  RecordRules,
  RecordSelector,
  RecordValidator
} from './contract.js'
export {
  DhtError,
  DhtTimeoutError,
  InvalidRecordError,
  NoPeersAcknowledgedError,
  NotFoundError,
  NotStartedError
} from './errors.js'
export * from './local/index.js'
