/**
 * @chorus/storage: EncryptedDHTStorage. Signed, versioned, age-encrypted UCXL content on a CHORUS
 * `Dht`, with a cache, a persistent local index for list/search, and a hash-chained audit log.
 */
export { headKey, KEY_PREFIX, parseRecordKey, versionKey } from './address.js'
export type { AuditInput, AuditOperation } from './audit.js'
export { verifyEd25519 } from './ed25519.js'
export {
  DEFAULT_MAX_ENVELOPE_BYTES,
  type DecodeEnvelopeOptions,
  decodeEnvelope,
  ENVELOPE_FORMAT,
  type Envelope,
  type EnvelopeMetadata,
  encodeEnvelope,
  envelopeHash,
  openEnvelope,
  signEnvelope,
  signingBytes,
  type UnsignedEnvelope,
  verifyEnvelope
} from './envelope.js'
export {
  AccessDeniedError,
  ContentNotFoundError,
  ContentTooLargeError,
  DataDirNotWritableError,
  InsufficientStorageError,
  IntegrityError,
  InvalidAddressError,
  InvalidContentTypeError,
  InvalidEnvelopeError,
  MalformedEnvelopeError,
  ReadOnlyRoleError,
  StorageError,
  StorageNotStartedError,
  StorageTimeoutError,
  UnknownRoleError,
  WriteQuorumError
} from './errors.js'
export type { IndexSource } from './index-db.js'
export {
  CHORUS_NAMESPACE,
  type ChorusRecordRulesInit,
  chorusRecordRules,
  compareEnvelopes,
  validateChorusRecord
} from './records.js'
export { createEncryptedStorage } from './storage.js'
export type {
  AuditVerification,
  EncryptedStorage,
  EncryptedStorageComponents,
  EncryptedStorageInit,
  RetrieveOptions,
  RetrieveResult,
  SearchQuery,
  StorageCrypto,
  StorageKeyring,
  StorageMetrics,
  StorageRoles,
  StoreResult,
  UCXLMetadata
} from './types.js'
